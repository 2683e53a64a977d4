"""A small, deterministic Northwind-like ERP export with the quirks of real ones, and its truth.

:func:`write_export` writes ``customers.csv``, ``employees.csv``, ``orders.csv``,
``order_details.csv`` and ``products.csv`` (Northwind's columns, plus a ``StandardCost`` per
product) into a folder, and returns the clean ground truth it wrote them from together with every
quirk it planted and where (file, line, column). The tests compute their expected figures from
the truth with plain pandas, never with the import code.

Quirks planted in both variants:

- rows with more fields than the header: an address with the delimiter unquoted in it (customer
  BONAP and every one of its orders' ShipAddress, customer COMMI);
- ``NULL`` and ``N/A`` for missing values, empty cells too;
- datetimes with a time of day and milliseconds (``1996-07-04 00:00:00.000``);
- hex blobs: every employee's ``Photo``, and one customer's ``ContactTitle`` (DUMON);
- a quoted address spanning two lines (BERGS), so that rows and lines differ;
- customers without orders (FISSA, PARIS, as in Northwind); orders of unknown customers;
- orders not shipped yet, orders shipped after the required date, an order shipped before it
  was ordered (``SHIPPED_EARLY``), lines priced below and above the list price.

The ``"eu"`` variant is what European Excel writes: ``;`` as delimiter, a UTF-8 byte-order mark,
decimal commas and ``.`` between thousands, dates ``04.07.1996 00:00``, and the discount of an
order line as an amount of money instead of a fraction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import pandas as pd

Variant = Literal["plain", "eu"]

CUSTOMERS = [  # id, company, contact, title, address, city, postal code, country, phone
    ("ALFKI", "Alfreds Futterkiste", "Maria Anders", "Sales Representative", "Obere Str. 57",
     "Berlin", "12209", "Germany", "030-0074321"),
    ("ANATR", "Ana Trujillo Emparedados y helados", "Ana Trujillo", "Owner",
     "Avda. de la Constitución 2222", "México D.F.", "05021", "Mexico", "(5) 555-4729"),
    ("ANTON", "Antonio Moreno Taquería", "Antonio Moreno", "Owner", "Mataderos  2312",
     "México D.F.", "05023", "Mexico", "(5) 555-3932"),
    ("AROUT", "Around the Horn", "Thomas Hardy", "Sales Representative", "120 Hanover Sq.",
     "London", "WA1 1DP", "UK", "(171) 555-7788"),
    ("BERGS", "Berglunds snabbköp", "Christina Berglund", "Order Administrator",
     "Berguvsvägen  8\nHus B", "Luleå", "S-958 22", "Sweden", "0921-12 34 65"),
    ("BLAUS", "Blauer See Delikatessen", "Hanna Moos", "Sales Representative", "Forsterstr. 57",
     "Mannheim", "68306", "Germany", "0621-08460"),
    ("BLONP", "Blondesddsl père et fils", "Frédérique Citeaux", "Marketing Manager",
     "24, place Kléber", "Strasbourg", "67000", "France", "88.60.15.31"),
    ("BOLID", "Bólido Comidas preparadas", "Martín Sommer", "Owner", "C/ Araquil, 67",
     "Madrid", "28023", "Spain", "(91) 555 22 82"),
    ("BONAP", "Bon app'", "Laurence Lebihan", "Owner", "12, rue des Bouchers", "Marseille",
     "13008", "France", "91.24.45.40"),
    ("BOTTM", "Bottom-Dollar Markets", "Elizabeth Lincoln", "Accounting Manager",
     "23 Tsawassen Blvd.", "Tsawassen", "T2F 8M4", "Canada", "(604) 555-4729"),
    ("BSBEV", "B's Beverages", "Victoria Ashworth", "Sales Representative",
     "Fauntleroy Circus", "London", "EC2 5NT", "UK", None),
    ("CACTU", "Cactus Comidas para llevar", "Patricio Simpson", "Sales Agent", "Cerrito 333",
     "Buenos Aires", "1010", "Argentina", "(1) 135-5555"),
    ("CENTC", "Centro comercial Moctezuma", "Francisco Chang", "Marketing Manager",
     "Sierras de Granada 9993", "México D.F.", "05022", "Mexico", "(5) 555-3392"),
    ("CHOPS", "Chop-suey Chinese", "Yang Wang", "Owner", "Hauptstr. 29", "Bern", "3012",
     "Switzerland", "0452-076545"),
    ("COMMI", "Comércio Mineiro", "Pedro Afonso", "Sales Associate", "Av. dos Lusíadas, 23",
     "São Paulo", "05432-043", "Brazil", "(11) 555-7647"),
    ("CONSH", "Consolidated Holdings", "Elizabeth Brown", "Sales Representative",
     "Berkeley Gardens 12  Brewery", "London", "WX1 6LT", "UK", "(171) 555-2282"),
    ("DRACD", "Drachenblut Delikatessen", "Sven Ottlieb", "Order Administrator",
     "Walserweg 21", "Aachen", "52066", "Germany", "0241-039123"),
    ("DUMON", "Du monde entier", "Janine Labrune", None, "67, rue des Cinquante Otages",
     "Nantes", "44000", "France", "40.67.88.88"),
    ("EASTC", "Eastern Connection", "Ann Devon", "Sales Agent", "35 King George", "London",
     "WX3 6FW", "UK", "(171) 555-0297"),
    ("ERNSH", "Ernst Handel", "Roland Mendel", "Sales Manager", "Kirchgasse 6", "Graz", "8010",
     "Austria", "7675-3425"),
    ("FISSA", "FISSA Fabrica Inter. Salchichas S.A.", "Diego Roel", "Accounting Manager",
     "C/ Moralzarzal, 86", "Madrid", "28034", "Spain", "(91) 555 94 44"),
    ("PARIS", "Paris spécialités", "Marie Bertrand", "Owner", "265, boulevard Charonne",
     "Paris", "75012", "France", "(1) 42.34.22.66"),
]
WITHOUT_ORDERS = ("FISSA", "PARIS")
OVERFLOW_CUSTOMERS = ("BONAP", "COMMI")  # their address is written with the delimiter unquoted
BLOB_TITLE = "DUMON"  # a photo pasted into ContactTitle
UNKNOWN_CUSTOMERS = ("ZZZZZ", "XYZAB")

EMPLOYEES = [  # id, last, first, title, reports to, country
    (1, "Davolio", "Nancy", "Sales Representative", 2, "USA"),
    (2, "Fuller", "Andrew", "Vice President, Sales", None, "USA"),
    (3, "Leverling", "Janet", "Sales Representative", 2, "USA"),
    (4, "Peacock", "Margaret", "Sales Representative", 2, "USA"),
    (5, "Buchanan", "Steven", "Sales Manager", 2, "UK"),
    (6, "Suyama", "Michael", "Sales Representative", 5, "UK"),
    (7, "King", "Robert", "Sales Representative", 5, "UK"),
    (8, "Callahan", "Laura", "Inside Sales Coordinator", 2, "USA"),
    (9, "Dodsworth", "Anne", "Sales Representative", 5, "UK"),
]

PRODUCTS = [  # id, name, category id, list price
    (1, "Chai", 1, 18.00), (2, "Chang", 1, 19.00), (3, "Aniseed Syrup", 2, 10.00),
    (4, "Chef Anton's Cajun Seasoning", 2, 22.00), (7, "Uncle Bob's Organic Dried Pears", 7, 30.00),
    (9, "Mishi Kobe Niku", 6, 97.00), (10, "Ikura", 8, 31.00), (11, "Queso Cabrales", 4, 21.00),
    (14, "Tofu", 7, 23.25), (16, "Pavlova", 3, 17.45), (17, "Alice Mutton", 6, 39.00),
    (18, "Carnarvon Tigers", 8, 62.50), (20, "Sir Rodney's Marmalade", 3, 81.00),
    (29, "Thüringer Rostbratwurst", 6, 123.79), (38, "Côte de Blaye", 1, 263.50),
    (42, "Singaporean Hokkien Fried Mee", 5, 14.00), (51, "Manjimup Dried Apples", 7, 53.00),
    (59, "Raclette Courdavault", 4, 55.00), (60, "Camembert Pierrot", 4, 34.00),
    (72, "Mozzarella di Giovanni", 4, 34.80),
]
CATEGORIES = {1: "Beverages", 2: "Condiments", 3: "Confections", 4: "Dairy Products",
              5: "Grains/Cereals", 6: "Meat/Poultry", 7: "Produce", 8: "Seafood"}
N_ORDERS = 100
SHIPPED_EARLY = 55  # the order (by position) whose shipped date is 3 days before its order date
FIRST_DAY = date(1996, 7, 4)
LAST_DAY = date(1998, 5, 6)


@dataclass
class Planted:
    """Where each quirk was written: lists of dicts with ``file``, ``line`` and more."""

    overflow: list[dict] = field(default_factory=list)  # file, line, column, value
    markers: list[dict] = field(default_factory=list)  # file, line, column, value
    blobs: list[dict] = field(default_factory=list)  # file, line, column, length
    times: list[dict] = field(default_factory=list)  # file, line, column, value (mapped dates)
    decimal_comma: list[dict] = field(default_factory=list)  # file, line, column, value
    thousands: list[dict] = field(default_factory=list)  # file, line, column, value
    bom: list[str] = field(default_factory=list)  # files


@dataclass
class Export:
    """The folder written, the clean truth behind it and the quirks planted."""

    folder: Path
    variant: Variant
    customers: pd.DataFrame  # CustomerID, CompanyName, ContactName, ContactTitle, Phone, line
    employees: pd.DataFrame  # EmployeeID, FirstName, LastName, ReportsTo
    products: pd.DataFrame  # ProductID, ProductName, CategoryID, ListPrice, StandardCost
    orders: pd.DataFrame  # OrderID, CustomerID, EmployeeID, OrderDate, RequiredDate,
    #                       ShippedDate (None: not shipped), Freight, line
    lines: pd.DataFrame  # OrderID, ProductID, UnitPrice, Quantity, Discount (fraction),
    #                      DiscountAmount (money off the line, to the cent), line
    planted: Planted


class _Writer:
    """Writes one CSV file row by row, counting lines and recording the quirks it writes."""

    def __init__(self, folder: Path, name: str, variant: Variant, planted: Planted,
                 numeric: tuple[str, ...] = ()):
        self.name, self.variant, self.planted = name, variant, planted
        self.delimiter = ";" if variant == "eu" else ","
        self.numeric = numeric  # columns whose numbers kam reads (styles are recorded)
        self.path = folder / name
        self.parts: list[str] = []
        self.line = 1
        self.columns: list[str] = []
        if variant == "eu":
            planted.bom.append(name)

    def header(self, columns: list[str]) -> None:
        self.columns = columns
        self.parts.append(self.delimiter.join(columns) + "\r\n")
        self.line = 2

    def quote(self, text: str) -> str:
        if any(c in text for c in (self.delimiter, '"', "\n", "\r")):
            return '"' + text.replace('"', '""') + '"'
        return text

    def row(self, values: dict[str, object], *, raw: tuple[str, ...] = (),
            markers: dict[str, str] | None = None) -> int:
        """Write one row: ``None`` is written as its column's marker (default ``NULL``), the
        ``raw`` columns unquoted (a stray delimiter in them makes the row too long)."""
        start = self.line
        cells = []
        for col in self.columns:
            v = values.get(col)
            if v is None:
                marker = (markers or {}).get(col, "NULL")
                if marker:
                    self.planted.markers.append(
                        {"file": self.name, "line": start, "column": col, "value": marker})
                cells.append(marker)
                continue
            text = str(v)
            if col in raw and self.delimiter in text:
                self.planted.overflow.append(
                    {"file": self.name, "line": start, "column": col, "value": text})
                cells.append(text)
                continue
            if col in self.numeric and self.variant == "eu":
                if "," in text:
                    self.planted.decimal_comma.append(
                        {"file": self.name, "line": start, "column": col, "value": text})
                if "." in text:
                    self.planted.thousands.append(
                        {"file": self.name, "line": start, "column": col, "value": text})
            cells.append(self.quote(text))
        line = self.delimiter.join(cells) + "\r\n"
        self.parts.append(line)
        self.line += line.count("\n")
        return start

    def close(self) -> None:
        data = "".join(self.parts).encode("utf-8")
        self.path.write_bytes((b"\xef\xbb\xbf" if self.variant == "eu" else b"") + data)


def _money(x: float, variant: Variant) -> str:
    if variant == "plain":
        return f"{x:.2f}"
    whole, cents = f"{x:.2f}".split(".")
    return f"{int(whole):,}".replace(",", ".") + "," + cents


def _when(d: date, variant: Variant, time: str = "00:00:00.000") -> str:
    if variant == "plain":
        return f"{d:%Y-%m-%d} {time}"
    return f"{d:%d.%m.%Y} {time[:5]}"


def _hex_photo(rng: random.Random, n: int = 120) -> str:
    return "0x151C2F00020000000D000E0014002100FFFFFFFF4269746D617020496D616765" + "".join(
        f"{rng.randrange(256):02X}" for _ in range(n))


def write_export(folder: Path, variant: Variant = "plain", seed: int = 7) -> Export:
    """Write the export into ``folder`` (created) and return its truth and planted quirks."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    planted = Planted()
    d = ";" if variant == "eu" else ","

    def stray(text: str) -> str:  # an address whose comma is the delimiter (a row too long)
        return text.replace(",", d)

    # -- products ------------------------------------------------------------------------------
    w = _Writer(folder, "products.csv", variant, planted, numeric=("UnitPrice", "StandardCost"))
    w.header(["ProductID", "ProductName", "SupplierID", "CategoryID", "QuantityPerUnit",
              "UnitPrice", "StandardCost", "UnitsInStock", "UnitsOnOrder", "ReorderLevel",
              "Discontinued"])
    products = []
    for pid, name, cat, price in PRODUCTS:
        cost = round(price * rng.uniform(0.55, 0.75), 2)
        products.append({"ProductID": pid, "ProductName": name, "CategoryID": cat,
                         "ListPrice": price, "StandardCost": cost})
        w.row({"ProductID": pid, "ProductName": name, "SupplierID": rng.randint(1, 29),
               "CategoryID": cat, "QuantityPerUnit": f"{rng.randint(10, 48)} - 12 oz units",
               "UnitPrice": _money(price, variant), "StandardCost": _money(cost, variant),
               "UnitsInStock": rng.randint(0, 120), "UnitsOnOrder": 0, "ReorderLevel": 10,
               "Discontinued": int(pid in (9, 17, 29))})
    w.close()

    # -- employees (Notes of the first one span two lines; every Photo is a hex blob) -----------
    w = _Writer(folder, "employees.csv", variant, planted)
    w.header(["EmployeeID", "LastName", "FirstName", "Title", "TitleOfCourtesy", "BirthDate",
              "HireDate", "City", "Region", "Country", "HomePhone", "Extension", "Photo",
              "Notes", "ReportsTo", "PhotoPath"])
    employees = []
    for eid, last, first, title, boss, country in EMPLOYEES:
        photo = _hex_photo(rng)
        notes = (f"Education includes a BA in psychology.\n{first} is a member of Toastmasters."
                 if eid == 1 else f"{first} {last} joined the company as {title}.")
        line = w.row({"EmployeeID": eid, "LastName": last, "FirstName": first, "Title": title,
                      "TitleOfCourtesy": "Ms.", "BirthDate": _when(date(1960, 1, eid), variant),
                      "HireDate": _when(date(1992, 5, eid), variant),
                      "City": "Seattle" if country == "USA" else "London",
                      "Region": "WA" if country == "USA" else None, "Country": country,
                      "HomePhone": f"(206) 555-98{eid:02d}", "Extension": str(5000 + eid),
                      "Photo": photo, "Notes": notes, "ReportsTo": boss,
                      "PhotoPath": f"http://accweb/emmployees/{last.lower()}.bmp"})
        planted.blobs.append({"file": "employees.csv", "line": line, "column": "Photo",
                              "length": len(photo)})
        employees.append({"EmployeeID": eid, "FirstName": first, "LastName": last,
                          "ReportsTo": boss, "Title": title})
    w.close()

    # -- customers ------------------------------------------------------------------------------
    w = _Writer(folder, "customers.csv", variant, planted)
    w.header(["CustomerID", "CompanyName", "ContactName", "ContactTitle", "Address", "City",
              "Region", "PostalCode", "Country", "Phone", "Fax"])
    customers = []
    for cid, company, contact, title, address, city, postal, country, phone in CUSTOMERS:
        shown_title: str | None = title
        if cid == BLOB_TITLE:
            shown_title = _hex_photo(rng, 60)
        overflow = cid in OVERFLOW_CUSTOMERS
        values = {"CustomerID": cid, "CompanyName": company, "ContactName": contact,
                  "ContactTitle": shown_title, "Address": stray(address) if overflow else address,
                  "City": city, "Region": None, "PostalCode": postal, "Country": country,
                  "Phone": phone, "Fax": None if rng.random() < 0.5 else phone}
        line = w.row(values, raw=("Address",) if overflow else (),
                     markers={"Phone": "N/A", "Fax": "N/A" if rng.random() < 0.5 else ""})
        if cid == BLOB_TITLE:
            planted.blobs.append({"file": "customers.csv", "line": line,
                                  "column": "ContactTitle", "length": len(shown_title or "")})
        customers.append({"CustomerID": cid, "CompanyName": company, "ContactName": contact,
                          "ContactTitle": title, "Address": address, "City": city,
                          "PostalCode": postal, "Country": country, "Phone": phone,
                          "line": line})
    w.close()

    # -- orders and their lines -------------------------------------------------------------------
    buyers = [c[0] for c in CUSTOMERS if c[0] not in WITHOUT_ORDERS]
    weights = [1 + 4 * (i % 5 == 0) + (i % 3) for i in range(len(buyers))]
    span = (LAST_DAY - FIRST_DAY).days
    days = sorted(rng.sample(range(span + 1), N_ORDERS))
    unknown_at = {37: UNKNOWN_CUSTOMERS[0], 71: UNKNOWN_CUSTOMERS[1]}
    big_freight = {12, 48, 90}
    w = _Writer(folder, "orders.csv", variant, planted, numeric=("Freight",))
    w.header(["OrderID", "CustomerID", "EmployeeID", "OrderDate", "RequiredDate", "ShippedDate",
              "ShipVia", "Freight", "ShipName", "ShipAddress", "ShipCity", "ShipRegion",
              "ShipPostalCode", "ShipCountry"])
    wl = _Writer(folder, "order_details.csv", variant, planted,
                 numeric=("UnitPrice", "Discount"))
    wl.header(["OrderID", "ProductID", "UnitPrice", "Quantity", "Discount"])
    by_id = {c[0]: c for c in CUSTOMERS}
    first_round = rng.sample(buyers, len(buyers))  # every buyer orders at least once
    orders, lines = [], []
    above_list = 0
    for n, day in enumerate(days):
        oid = 10248 + n
        cid = unknown_at.get(n) or (first_round.pop() if first_round else
                                    rng.choices(buyers, weights)[0])
        ordered = FIRST_DAY + timedelta(days=day)
        required = ordered + timedelta(days=rng.choice((14, 28, 28, 42)))
        shipped = None if n >= N_ORDERS - 4 else ordered + timedelta(days=rng.randint(1, 35))
        if n == SHIPPED_EARLY:
            shipped = ordered - timedelta(days=3)
        freight = round(rng.uniform(1010, 1100) if n in big_freight else rng.uniform(0.5, 300), 2)
        eid = rng.choice([1, 3, 4, 6, 7, 9, 1, 3, 4, 5, 8])
        known = by_id.get(cid)
        address = known[4] if known else "Unknown Street 1"
        overflow = cid in OVERFLOW_CUSTOMERS
        time = "00:00:00.000" if n % 10 else f"{rng.randint(8, 17):02d}:{n % 60:02d}:05.117"
        values = {"OrderID": oid, "CustomerID": cid, "EmployeeID": eid,
                  "OrderDate": _when(ordered, variant, time),
                  "RequiredDate": _when(required, variant),
                  "ShippedDate": _when(shipped, variant) if shipped else None,
                  "ShipVia": rng.randint(1, 3), "Freight": _money(freight, variant),
                  "ShipName": known[1] if known else "Unknown", "ShipAddress":
                  stray(address) if overflow else address, "ShipCity": known[5] if known else "",
                  "ShipRegion": None, "ShipPostalCode": known[6] if known else "",
                  "ShipCountry": known[7] if known else ""}
        line = w.row(values, raw=("ShipAddress",) if overflow else ())
        for col in ("OrderDate", "RequiredDate", "ShippedDate"):
            if values[col] is not None:
                planted.times.append({"file": "orders.csv", "line": line, "column": col,
                                      "value": values[col]})
        orders.append({"OrderID": oid, "CustomerID": cid, "EmployeeID": eid,
                       "OrderDate": ordered, "RequiredDate": required, "ShippedDate": shipped,
                       "Freight": freight, "line": line})
        for pid, _, _, price in rng.sample(PRODUCTS, rng.choice((1, 2, 3, 3, 4, 5))):
            r = rng.random()
            if r < 0.25:
                unit = round(price * 0.8, 2)  # an older, lower price
            elif r < 0.27 and above_list < 3:
                unit, above_list = round(price * 1.05, 2), above_list + 1
            else:
                unit = price
            qty = rng.choice((1, 2, 5, 6, 10, 12, 15, 20, 24, 25, 30, 35, 40, 50, 60, 100, 120))
            disc = rng.choice((0.0, 0.0, 0.0, 0.05, 0.1, 0.15, 0.2, 0.25))
            amount = round(qty * unit * disc, 2)
            shown = f"{disc:g}" if variant == "plain" else _money(amount, variant)
            ln = wl.row({"OrderID": oid, "ProductID": pid, "UnitPrice": _money(unit, variant),
                         "Quantity": qty, "Discount": shown})
            lines.append({"OrderID": oid, "ProductID": pid, "UnitPrice": unit, "Quantity": qty,
                          "Discount": disc, "DiscountAmount": amount, "line": ln})
    w.close()
    wl.close()
    return Export(folder=folder, variant=variant, customers=pd.DataFrame(customers),
                  employees=pd.DataFrame(employees), products=pd.DataFrame(products),
                  orders=pd.DataFrame(orders), lines=pd.DataFrame(lines), planted=planted)
