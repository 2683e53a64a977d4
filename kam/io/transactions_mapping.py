"""The mapping of an ERP or shop export of orders: which file and column feeds which kam field.

A mapping is a YAML file read by :func:`load_transactions_mapping` (default:
``templates/transactions/northwind.yaml``, for a Northwind-style export). ``format`` says how the
files are written (delimiter, decimal mark, thousands separator, missing-value markers, dates);
each other section names a file of the export and, for each kam field, the column that feeds it.
A mapping may start from another one with ``extends: <file>`` (a path relative to the mapping,
or the name of a file in ``templates/transactions/``) and change only what differs: sections are
merged key by key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..config import load_yaml, merged, templates_dir
from ..errors import ConfigError
from ..model import TeamRole
from .csv_files import CsvFormat

__all__ = [
    "CustomersMap",
    "FormatMap",
    "OrderLinesMap",
    "OrdersMap",
    "ProductsMap",
    "TransactionsMapping",
    "TransactionsTeamMap",
    "load_transactions_mapping",
]

DEFAULT_TRANSACTIONS_MAPPING = "transactions/northwind.yaml"


class _Map(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _columns(value: Any) -> Any:
    """A column or a list of columns (joined): always a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


class FormatMap(_Map):
    """How the files of the export are written."""

    delimiter: Literal[",", ";", "\t", "|", "auto"] = Field(
        "auto", description="Field delimiter; auto: the one the header line uses most.")
    decimal: Literal[".", ","] = Field(".", description="Decimal mark of numbers.")
    thousands: Literal["", ",", ".", " ", "'", "\u00a0"] = Field(
        "", description="Thousands separator of numbers ('' : none allowed).")
    missing: list[str] = Field(
        default_factory=lambda: [""], description="Cell texts that mean 'no value' (NULL, "
        "N/A, ...). The empty cell always does. Every cell read so is listed in the report.")
    date_format: str = Field("%Y-%m-%d", description="The date part of date cells, as "
                             "strftime writes it; a time of day may follow (it is not kept).")
    binary_values: Literal["error", "omit"] = Field(
        "error", description="Binary data written as hex digits (a photo exported as "
        "0x1A2B...) in a text column kam imports: 'error' refuses the import, 'omit' leaves the "
        "value out (and reports it). In a column read as a number, date or id it is never "
        "binary data: a value there that does not convert is refused.")

    @model_validator(mode="after")
    def _marks_differ(self) -> FormatMap:
        if self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands are both {self.decimal!r}; they must differ")
        if self.delimiter == self.decimal and self.delimiter != "auto":
            raise ValueError(f"delimiter and decimal are both {self.decimal!r}; numbers would "
                             "be cut in two")
        return self

    def csv_format(self) -> CsvFormat:
        return CsvFormat(delimiter=self.delimiter, decimal=self.decimal,
                         thousands=self.thousands, missing=tuple(self.missing),
                         date_format=self.date_format)


class _File(_Map):
    file: str = Field(min_length=1)
    overflow_column: str | None = Field(
        None, description="Rows with more fields than the header (a delimiter unquoted in a "
        "value) are joined back into this column; without it such a row is an error.")

    def columns(self) -> list[str]:
        """Every CSV column the section reads."""
        skip = {"file", "overflow_column", "account_id", "discount_kind", "role", "period_from",
                "unshipped", "group_names"}
        out: list[str] = []
        for k, v in self:
            if k in skip or v is None:
                continue
            if isinstance(v, _Map):
                out += [c for _, c in v if isinstance(c, str)]
            else:
                out += v if isinstance(v, list) else [v] if isinstance(v, str) else []
        return list(dict.fromkeys(out))

    typed: ClassVar[tuple[str, ...]] = ()
    """The settings whose columns are read as numbers, dates or ids (not as text)."""

    def typed_columns(self) -> list[str]:
        """The CSV columns the section reads as numbers, dates or ids: a value there is never
        taken for binary data nor left out; one that does not convert is a bad value."""
        return [c for k in self.typed if isinstance(c := getattr(self, k), str)]


class ContactMap(_Map):
    """The customer's contact person, on the customer row."""

    name: str = Field(min_length=1)
    position: str | None = None
    phone: str | None = None
    email: str | None = None


class CustomersMap(_File):
    """The customers file: one row per customer (an account in kam)."""

    typed: ClassVar[tuple[str, ...]] = ("id",)

    id: str = Field(min_length=1, description="Column with the customer id orders name.")
    name: str = Field(min_length=1, description="Column with the customer's name.")
    account_id: Literal["name", "id"] = Field(
        "name", description="The kam account id: 'name' = the slug of the name (Alfreds "
        "Futterkiste -> alfreds-futterkiste), 'id' = the customer id as it is.")
    address: list[str] = Field(default_factory=list, description="Columns joined into the "
                               "address with ', ' (empty ones left out).")
    region: str | None = None
    phone: str | None = None
    website: str | None = None
    contact: ContactMap | None = None

    _list = field_validator("address", mode="before")(_columns)


class TransactionsTeamMap(_File):
    """The employees file: sales reps and their managers (our team)."""

    typed: ClassVar[tuple[str, ...]] = ("id", "manager")

    id: str = Field(min_length=1, description="Column with the employee id orders name.")
    name: list[str] = Field(min_length=1, description="Columns joined into the name with a "
                            "space (FirstName, LastName).")
    manager: str | None = Field(None, description="Column with the employee id of the manager.")
    region: str | None = None
    role: TeamRole = Field(TeamRole.CLIENT_MANAGER, description="Role of a rep; an employee "
                           "whom others report to is a planner.")

    _list = field_validator("name", mode="before")(_columns)


class ProductsMap(_File):
    """The product list: names, product groups, list prices, unit costs."""

    typed: ClassVar[tuple[str, ...]] = ("id", "product_group", "list_price", "unit_cost")

    id: str | None = Field(None, description="Column with the product id order lines name "
                           "(default: they name the product by its name).")
    name: str = Field(min_length=1)
    product_group: str | None = None
    group_names: dict[str, str] = Field(default_factory=dict, description="Product group "
                                        "value -> its name (CategoryID 1 -> Beverages).")
    list_price: str | None = None
    unit_cost: str | None = Field(None, description="Standard cost of one unit.")

    @field_validator("group_names", mode="before")
    @classmethod
    def _keys_as_text(cls, v: Any) -> Any:
        return {str(k): w for k, w in v.items()} if isinstance(v, dict) else v


class OrdersMap(_File):
    """The orders file: one row per order."""

    typed: ClassVar[tuple[str, ...]] = ("id", "customer", "rep", "order_date", "required_date",
                                        "shipped_date", "freight")

    id: str = Field(min_length=1)
    customer: str = Field(min_length=1, description="Column with the customer id.")
    rep: str | None = Field(None, description="Column with the employee id of the sales rep.")
    order_date: str = Field(min_length=1)
    required_date: str | None = None
    shipped_date: str | None = None
    freight: str | None = Field(None, description="Freight of the order, booked as a cost.")
    period_from: Literal["order_date", "shipped_date"] = Field(
        "order_date", description="The date whose month an order's sales are booked to.")
    unshipped: Literal["include", "exclude"] = Field(
        "include", description="Orders without a shipped date: 'include' them (booked by "
        "order date) or 'exclude' them (listed in the report).")

    @model_validator(mode="after")
    def _dates(self) -> OrdersMap:
        if self.period_from == "shipped_date":
            if not self.shipped_date:
                raise ValueError("period_from: shipped_date needs the shipped_date column")
            if self.unshipped == "include":
                raise ValueError("period_from: shipped_date books orders by the month they "
                                 "shipped: set unshipped: exclude")
        return self


class OrderLinesMap(_File):
    """The order lines file: one row per product of an order."""

    typed: ClassVar[tuple[str, ...]] = ("order", "product", "quantity", "unit_price",
                                        "list_price", "discount", "unit_cost")

    order: str = Field(min_length=1)
    product: str = Field(min_length=1, description="Column naming the product (its id in "
                         "the product list, or its name).")
    quantity: str = Field(min_length=1)
    unit_price: str = Field(min_length=1, description="Price of one unit on the invoice, "
                            "before the line's discount.")
    list_price: str | None = Field(None, description="List price of one unit on the line "
                                   "(default: the product list's).")
    discount: str | None = None
    discount_kind: Literal["fraction", "percent", "amount"] = Field(
        "fraction", description="fraction: 0.05 = 5% off; percent: 5 = 5% off; amount: money "
        "off the whole line.")
    unit_cost: str | None = Field(None, description="Cost of one unit on the line (default: "
                                  "the product list's).")


class TransactionsMapping(_Map):
    """How one ERP or shop export of orders maps onto kam records."""

    description: str = ""
    format: FormatMap = Field(default_factory=FormatMap)
    customers: CustomersMap
    team: TransactionsTeamMap | None = None
    products: ProductsMap | None = None
    orders: OrdersMap
    order_lines: OrderLinesMap
    freight_category: str | None = Field(
        "logistics", description="Cost-to-serve category freight is booked to (one of "
        "categories in cost_to_serve.yaml); null: freight is not imported.")
    order_activity: str | None = Field(
        "order", description="Activity counting orders (one of activity_rates in "
        "cost_to_serve.yaml); null: not counted.")
    delivery_activity: str | None = Field(
        None, description="Activity counting shipped orders (e.g. delivery).")
    units_activity: str | None = Field(
        None, description="Activity counting the units sold (e.g. unit handled).")
    kam_from_orders: Literal["most orders", "none"] = Field(
        "none", description="'most orders': an account without a KAM gets the rep who took "
        "most of its orders (ties: the latest order's rep).")
    line_prefix: str = Field("erp", pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,15}$",
                             description="Start of the ids of the lines this import owns.")
    source: str | None = Field(None, exclude=True, description="File the mapping came from.")

    @model_validator(mode="after")
    def _known_product_columns(self) -> TransactionsMapping:
        if self.products is None and self.order_lines.list_price is None:
            raise ValueError("without a products section, order_lines.list_price must name "
                             "the column of list prices")
        return self


def _read(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, found {type(data).__name__}")
    base = data.pop("extends", None)
    if base is None:
        return data
    parent = path.parent / str(base)
    if not parent.is_file():
        parent = templates_dir() / "transactions" / str(base)
    if parent.resolve() in seen or parent.resolve() == path.resolve():
        raise ConfigError(f"{path}: extends {base!r} leads back to itself")
    if not parent.is_file():
        raise ConfigError(f"{path}: extends {base!r}: no such file next to the mapping nor in "
                          f"{templates_dir() / 'transactions'}")
    return merged(_read(parent, (*seen, path.resolve())), data)


def load_transactions_mapping(path: str | os.PathLike[str] | None = None) -> TransactionsMapping:
    """Read a mapping of an orders export (default: ``templates/transactions/northwind.yaml``).

    Errors (:class:`~kam.errors.ConfigError`) name the file and the setting.

    Examples
    --------
    >>> m = load_transactions_mapping()
    >>> m.order_lines.discount_kind, m.freight_category, m.order_activity
    ('fraction', 'logistics', 'order')
    """
    file = Path(path) if path is not None else templates_dir() / DEFAULT_TRANSACTIONS_MAPPING
    data = _read(file)
    try:
        mapping = TransactionsMapping.model_validate(data)
    except ValidationError as e:
        lines = [f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                 for err in e.errors(include_url=False)]
        raise ConfigError(f"{file}: " + "; ".join(lines)) from None
    mapping.source = str(file)
    return mapping

