#!/usr/bin/env python3
"""Writes the bad-input corpus of issue 15 ("never wrong in silence") to tests/bad_inputs/.

    python3 scripts/make_bad_inputs.py

Everything is derived from the built-in sample in data/sample/ with fixed seeds and no
timestamps, so two runs write the same bytes. Standard library only. The corpus is:

  tests/bad_inputs/cases.json   the manifest: fixtures (models trained once per test run) and
                                one entry per case with the command lines to run and what
                                each must do (exit code, message, outputs)
  tests/bad_inputs/shared/      inputs several cases use (the base sample, contacts, clients)
  tests/bad_inputs/cases/<class>/<case>/   the files of a case, when it has its own

tests/cli/corpus.rs runs every case; tests/bad_inputs/README.md describes the format.
"""

import csv
import gzip
import io
import json
import random
import shutil
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
OUT = ROOT / "tests" / "bad_inputs"

HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
          "Customer ID", "Country"]
COL = {name: i for i, name in enumerate(HEADER)}

# --------------------------------------------------------------------------------------
# the base data
# --------------------------------------------------------------------------------------


def read_sample():
    with gzip.open(SAMPLE / "transactions.csv.gz", "rt", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == HEADER, rows[0]
    return rows[1:]


def first_line_per_invoice(rows, ids):
    seen = set()
    out = []
    for r in rows:
        if r[COL["Customer ID"]] in ids and r[0] not in seen:
            seen.add(r[0])
            out.append(list(r))
    return out


SAMPLE_ROWS = read_sample()
ALL_IDS = sorted({r[COL["Customer ID"]] for r in SAMPLE_ROWS}, key=int)
BASE_IDS = ALL_IDS[::60]
# The base: 50 clients, the first line of each of their invoices (about 260 lines, 21 KB).
BASE = first_line_per_invoice(SAMPLE_ROWS, set(BASE_IDS))
# Another 50 clients: models trained on them are "fitted on other data".
OTHER = first_line_per_invoice(SAMPLE_ROWS, set(ALL_IDS[30::60]))
# A smaller file for the inputs that must be refused: 17 of the base's clients, every line.
MINI_IDS = set(BASE_IDS[::3])
MINI = [r for r in BASE if r[COL["Customer ID"]] in MINI_IDS]

BASE_FIRST_DAY = min(r[COL["InvoiceDate"]] for r in BASE)[:10]
BASE_LAST_DAY = max(r[COL["InvoiceDate"]] for r in BASE)[:10]


def day_offset(day, delta):
    import datetime
    d = datetime.date.fromisoformat(day) + datetime.timedelta(days=delta)
    return d.isoformat()


def csv_bytes(rows, header=HEADER, eol="\n", bom=False, final_eol=True):
    """Rows as CSV bytes; a row given as bytes is written as it is (for invalid UTF-8)."""
    out = io.BytesIO()
    if bom:
        out.write(b"\xef\xbb\xbf")
    lines = []
    for r in ([header] if header is not None else []) + list(rows):
        if isinstance(r, bytes):
            lines.append(r)
            continue
        s = io.StringIO()
        csv.writer(s, lineterminator="").writerow(r)
        lines.append(s.getvalue().encode("utf-8"))
    out.write(eol.encode().join(lines))
    if final_eol:
        out.write(eol.encode())
    return out.getvalue()


def gz(data):
    """gzip with a fixed header (no name, mtime 0), so the bytes are reproducible."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as f:
        f.write(data)
    return buf.getvalue()


def with_cell(rows, row, column, value):
    """A copy of `rows` with data row `row` (1-based) `column` set to `value`."""
    rows = [list(r) for r in rows]
    rows[row - 1][COL[column]] = value
    return rows


def raw_row(r, column=None, raw=None):
    """Row `r` as bytes, with `column` replaced by the raw bytes `raw`."""
    cells = []
    for i, v in enumerate(r):
        if column is not None and i == COL[column]:
            cells.append(raw)
        else:
            s = io.StringIO()
            csv.writer(s, lineterminator="").writerow([v])
            cells.append(s.getvalue().encode())
    return b",".join(cells)


# --------------------------------------------------------------------------------------
# a minimal Parquet writer (PLAIN encoding, no compression, one row group)
# --------------------------------------------------------------------------------------

T_I32, T_I64, T_BIN, T_LIST, T_STRUCT = 5, 6, 8, 9, 12
PQ_BOOLEAN, PQ_INT32, PQ_INT64, PQ_DOUBLE, PQ_BYTE_ARRAY = 0, 1, 2, 5, 6
CONV_UTF8, CONV_TIMESTAMP_MICROS = 0, 10


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _zigzag(n):
    return (n << 1) ^ (n >> 63)


def _tstruct(fields):
    out = bytearray()
    last = 0
    for fid, ftype, val in fields:
        if val is None:
            continue
        out.append(((fid - last) << 4) | ftype)
        last = fid
        if ftype in (T_I32, T_I64):
            out += _varint(_zigzag(val))
        elif ftype == T_BIN:
            b = val.encode() if isinstance(val, str) else val
            out += _varint(len(b)) + b
        elif ftype == T_STRUCT:
            out += val
        elif ftype == T_LIST:
            etype, items = val
            out.append((len(items) << 4) | etype if len(items) < 15 else 0xF0 | etype)
            if len(items) >= 15:
                out += _varint(len(items))
            for it in items:
                if etype in (T_I32, T_I64):
                    out += _varint(_zigzag(it))
                elif etype == T_BIN:
                    b = it.encode() if isinstance(it, str) else it
                    out += _varint(len(b)) + b
                else:
                    out += it
    out.append(0)
    return bytes(out)


def _plain(ptype, values):
    if ptype == PQ_BOOLEAN:
        out = bytearray((len(values) + 7) // 8)
        for i, v in enumerate(values):
            if v:
                out[i // 8] |= 1 << (i % 8)
        return bytes(out)
    if ptype == PQ_INT32:
        return b"".join(struct.pack("<i", v) for v in values)
    if ptype == PQ_INT64:
        return b"".join(struct.pack("<q", v) for v in values)
    if ptype == PQ_DOUBLE:
        return b"".join(struct.pack("<d", v) for v in values)
    out = bytearray()
    for v in values:
        b = v.encode() if isinstance(v, str) else v
        out += struct.pack("<I", len(b)) + b
    return bytes(out)


def parquet_bytes(columns):
    """columns: [(name, physical type, converted type or None, values)]; None is null.

    Every column is OPTIONAL, its definition levels written as runs of one (RLE hybrid)."""
    nrows = len(columns[0][3])
    data = bytearray(b"PAR1")
    chunks = []
    for name, ptype, _conv, values in columns:
        levels = bytearray()
        for v in values:
            levels += _varint(2) + bytes([0 if v is None else 1])
        page = struct.pack("<I", len(levels)) + bytes(levels)
        page += _plain(ptype, [v for v in values if v is not None])
        header = _tstruct([
            (1, T_I32, 0),
            (2, T_I32, len(page)),
            (3, T_I32, len(page)),
            (5, T_STRUCT, _tstruct([(1, T_I32, len(values)), (2, T_I32, 0), (3, T_I32, 3),
                                    (4, T_I32, 3)])),
        ])
        offset = len(data)
        data += header + page
        size = len(header) + len(page)
        meta = _tstruct([
            (1, T_I32, ptype), (2, T_LIST, (T_I32, [0, 3])), (3, T_LIST, (T_BIN, [name])),
            (4, T_I32, 0), (5, T_I64, len(values)), (6, T_I64, size), (7, T_I64, size),
            (9, T_I64, offset),
        ])
        chunks.append((offset, size, meta))
    schema = [_tstruct([(4, T_BIN, "schema"), (5, T_I32, len(columns))])]
    for name, ptype, conv, _values in columns:
        schema.append(_tstruct([(1, T_I32, ptype), (3, T_I32, 1), (4, T_BIN, name),
                                (6, T_I32, conv)]))
    group = _tstruct([
        (1, T_LIST, (T_STRUCT, [_tstruct([(2, T_I64, o), (3, T_STRUCT, m)])
                                for o, _s, m in chunks])),
        (2, T_I64, sum(s for _o, s, _m in chunks)),
        (3, T_I64, nrows),
    ])
    footer = _tstruct([
        (1, T_I32, 1), (2, T_LIST, (T_STRUCT, schema)), (3, T_I64, nrows),
        (4, T_LIST, (T_STRUCT, [group])), (6, T_BIN, "retain bad_inputs generator"),
    ])
    data += footer + struct.pack("<I", len(footer)) + b"PAR1"
    return bytes(data)


def micros(ts):
    import datetime
    d = datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S")
    return int((d - datetime.datetime(1970, 1, 1)).total_seconds()) * 1_000_000


def tx_parquet(rows, ids=None, id_type="int64", ts_type="timestamp", qty=None, price=None):
    """The transactions as Parquet. `ids`: the client id values (default: the rows' own);
    `id_type`: int64, int32, string or bool; `qty`/`price`: (physical type, values)."""
    ids = ids if ids is not None else [r[COL["Customer ID"]] for r in rows]
    as_int = lambda: [None if v in (None, "") else int(v) for v in ids]
    id_col = {
        "int64": lambda: (PQ_INT64, None, as_int()),
        "int32": lambda: (PQ_INT32, None, as_int()),
        "string": lambda: (PQ_BYTE_ARRAY, CONV_UTF8, ids),
        "bool": lambda: (PQ_BOOLEAN, None, ids),
    }[id_type]()
    if ts_type == "timestamp":
        ts = (PQ_INT64, CONV_TIMESTAMP_MICROS, [micros(r[COL["InvoiceDate"]]) for r in rows])
    else:
        ts = (PQ_BYTE_ARRAY, CONV_UTF8, [r[COL["InvoiceDate"]] for r in rows])
    qty = qty or (PQ_INT64, [int(r[COL["Quantity"]]) for r in rows])
    price = price or (PQ_DOUBLE, [float(r[COL["Price"]]) for r in rows])
    text = lambda c: (PQ_BYTE_ARRAY, CONV_UTF8, [r[COL[c]] for r in rows])
    return parquet_bytes([
        ("Invoice",) + text("Invoice"),
        ("StockCode",) + text("StockCode"),
        ("Description",) + text("Description"),
        ("Quantity", qty[0], CONV_UTF8 if qty[0] == PQ_BYTE_ARRAY else None, qty[1]),
        ("InvoiceDate",) + ts,
        ("Price", price[0], CONV_UTF8 if price[0] == PQ_BYTE_ARRAY else None, price[1]),
        ("Customer ID",) + id_col,
        ("Country",) + text("Country"),
    ])


# --------------------------------------------------------------------------------------
# the commands and the outputs each writes
# --------------------------------------------------------------------------------------

MODELS = [{"fixture": "models", "from": "models", "to": "models"}]
DEMO_OUT = [{"fixture": "demo", "from": "out/demo", "to": "fx"}]


def outputs_of(args):
    """(outputs the command writes, other earlier files that must survive a failure)."""
    def flag(names, default):
        for i, a in enumerate(args):
            if a in names and i + 1 < len(args):
                return args[i + 1]
        return default

    cmd = args[0]
    if cmd == "features":
        return [flag(["-o", "--out"], "out/features.parquet")], []
    if cmd == "evaluate":
        return [flag(["-o", "--out"], "out/evaluation.json")], []
    if cmd == "report":
        return [flag(["-o", "--out"], "out/demo/report.html")], []
    if cmd == "train":
        m = flag(["-m", "--model-dir"], "models/churn")
        v = flag(["--value-model-dir", "--clv-model-dir"], "models/value")
        return [f"{m}/card.json", f"{m}/model.json", f"{v}/card.json", f"{v}/model.json"], []
    if cmd in ("score", "plan"):
        stem = flag(["-o", "--out"], "out/plan" if cmd == "plan" else "out/scores")
        parent = stem.rsplit("/", 1)[0] + "/" if "/" in stem else ""
        outs = [f"{stem}.csv", f"{stem}.parquet", f"{parent}summary.json"]
        if "--json-lines" in args:
            return outs + [f"{stem}.jsonl"], []
        return outs, [f"{stem}.jsonl"]
    if cmd == "kpis":
        stem = flag(["-o", "--out"], "out/kpis")
        return [f"{stem}.csv", f"{stem}.parquet", f"{stem}.json"], []
    if cmd == "demo":
        d = flag(["-o", "--out"], "out/demo")
        m = flag(["--model-dir"], "models/demo-churn")
        v = flag(["--value-model-dir"], "models/demo-value")
        names = ["evaluation.json", "kpis.csv", "kpis.json", "kpis.parquet", "report.html",
                 "scores.csv", "scores.parquet", "summary.json"]
        return ([f"{d}/{n}" for n in names]
                 + [f"{m}/card.json", f"{m}/model.json", f"{v}/card.json", f"{v}/model.json"]), []
    raise ValueError(cmd)


def run(args, exit, needles=(), contains=None, absent=None, dirs=None, outputs=None):
    """One command line of a case and what it must do."""
    outs, extra = outputs_of(args)
    if outputs is not None:
        outs = outputs
    plain = lambda p: p[2:] if p.startswith("./") else p
    outs, extra = [plain(p) for p in outs], [plain(p) for p in extra]
    r = {"args": list(args), "exit": exit, "stderr_contains": list(needles),
         "outputs": outs}
    if extra:
        r["untouched"] = extra
    if contains:
        r["output_contains"] = contains
    if absent:
        r["absent"] = absent
    if dirs:
        r["dirs"] = dirs
    return r


# The command lines that read a transactions input, each writing to its own paths.
def cmd_features(inp, extra=()):
    return ["features", "-i", inp, "-o", "out/features.csv", *extra]


def cmd_evaluate(inp, extra=()):
    return ["evaluate", "-i", inp, "--bootstrap", "0", "-o", "out/evaluation.json", *extra]


def cmd_train(inp, extra=()):
    return ["train", "-i", inp, "-m", "models/new-churn", "--value-model-dir",
            "models/new-value", *extra]


def cmd_score(inp, extra=()):
    return ["score", "-i", inp, "-m", "models/churn", "--value-model", "models/value",
            "-o", "out/scores", *extra]


def cmd_plan(inp, extra=()):
    return ["plan", "-i", inp, "-m", "models/churn", "--value-model", "models/value",
            "-o", "out/plan", *extra]


def cmd_kpis(inp, extra=()):
    return ["kpis", "-i", inp, "-o", "out/kpis", *extra]


def cmd_report(inp, extra=()):
    return ["report", "-i", inp, "--evaluation", "fx/evaluation.json", "--scores",
            "fx/scores.parquet", "--kpis", "fx/kpis.json", "-o", "out/report.html", *extra]


def cmd_demo(inp, extra=()):
    return ["demo", "-i", inp, "-o", "out/demo", "--model-dir", "models/demo-churn",
            "--value-model-dir", "models/demo-value", *extra]


READERS = {
    "features": cmd_features, "evaluate": cmd_evaluate, "train": cmd_train,
    "score": cmd_score, "plan": cmd_plan, "kpis": cmd_kpis, "report": cmd_report,
    "demo": cmd_demo,
}
# Where each command writes the client ids (for the cases whose ids must come out exactly).
ID_OUTPUT = {
    "features": "out/features.csv", "score": "out/scores.csv", "plan": "out/plan.csv",
    "demo": "out/demo/scores.csv",
}


def every_reader(inp, exit, needles=(), only=None, extra=(), ids=None):
    """The input through every command that reads it (`only`: a subset)."""
    runs = []
    for name, make in READERS.items():
        if only is not None and name not in only:
            continue
        contains = None
        if ids and name in ID_OUTPUT:
            contains = {ID_OUTPUT[name]: list(ids)}
        runs.append(run(make(inp, extra), exit, needles, contains=contains))
    return runs


# --------------------------------------------------------------------------------------
# the corpus
# --------------------------------------------------------------------------------------


class Corpus:
    def __init__(self):
        self.cases = []
        self.files = {}  # path relative to OUT -> bytes
        self.names = set()

    def case(self, cls, name, about, runs, files=None, shared=(), fixtures=(), edits=()):
        full = f"{cls}/{name}"
        assert full not in self.names, full
        self.names.add(full)
        c = {"name": full, "class": CLASS_NAMES[cls], "about": about}
        if files:
            c["dir"] = f"cases/{full}"
            for rel, data in files.items():
                self.files[f"cases/{full}/{rel}"] = data
        if shared:
            c["shared"] = list(shared)
        needs = list(fixtures)
        cmds = {r["args"][0] for r in runs}
        if cmds & {"score", "plan"} and not needs and any(
                "models/churn" in r["args"] for r in runs):
            needs = list(MODELS)
        if "report" in cmds and not any(f["fixture"] == "demo" for f in needs) and any(
                "fx/evaluation.json" in r["args"] for r in runs):
            needs = needs + DEMO_OUT
        if needs:
            c["fixtures"] = needs
        if edits:
            c["edits"] = list(edits)
        # what every run expects, said once for the case
        for key in ("exit", "stderr_contains"):
            values = [json.dumps(r[key]) for r in runs]
            if len(runs) > 1 and len(set(values)) == 1:
                c[key] = runs[0][key]
                runs = [{k: v for k, v in r.items() if k != key} for r in runs]
        c["runs"] = runs
        self.cases.append(c)

    def data_case(self, cls, name, about, data, exit, needles=(), file="sales.csv", only=None,
                  extra=(), ids=None, more_files=None):
        """A transactions input of its own, through every command that reads it."""
        files = {file: data}
        if more_files:
            files.update(more_files)
        self.case(cls, name, about, every_reader(file, exit, needles, only, extra, ids),
                  files=files)


CLASS_NAMES = {
    "format": "format", "values": "values", "dates": "dates", "ids": "ids",
    "windows": "windows", "empty": "empty", "flags": "flags", "config": "config",
    "overwrite": "inputs overwritten", "paths": "paths", "artifacts": "artifacts",
    "atomic": "atomic", "messages": "messages", "contacts": "contacts", "clients": "clients",
}


def build():
    c = Corpus()
    rng = random.Random(15)
    base = csv_bytes(BASE)
    F = "sales.csv"

    # ---------------------------------------------------------------- format
    for col in HEADER:
        if col == "Description":
            continue
        hdr = [h for h in HEADER if h != col]
        rows = [[v for h, v in zip(HEADER, r) if h != col] for r in MINI]
        c.data_case("format", f"missing-column-{col.lower().replace(' ', '-')}",
                    f"the column `{col}` of the online-retail-ii layout is missing",
                    csv_bytes(rows, header=hdr), 1, [F, f"missing column `{col}`"])
    hdr = [h for h in HEADER if h != "Description"]
    rows = [[v for h, v in zip(HEADER, r) if h != "Description"] for r in BASE]
    c.data_case("format", "missing-unused-column-description",
                "Description is not used by retain: a file without it is read as usual",
                csv_bytes(rows, header=hdr), 0)
    renames = {"Invoice": "InvoiceNo", "StockCode": "SKU", "Quantity": "Qty",
               "InvoiceDate": "Date", "Price": "UnitPrice", "Customer ID": "CustomerID",
               "Country": "country"}
    for col, new in renames.items():
        hdr = [new if h == col else h for h in HEADER]
        c.data_case("format", f"renamed-column-{col.lower().replace(' ', '-')}",
                    f"`{col}` is called `{new}`: refused naming the column, listing what the "
                    "file has", csv_bytes(MINI, header=hdr), 1,
                    [F, f"missing column `{col}`", new])
    for col in ["Customer ID", "InvoiceDate", "Quantity", "Price"]:
        hdr = HEADER + [col]
        rows = [r + [r[COL[col]] if i % 7 else "0"] for i, r in enumerate(MINI)]
        c.data_case("format", f"duplicated-column-{col.lower().replace(' ', '-')}",
                    f"the header names `{col}` twice: which one is meant is ambiguous",
                    csv_bytes(rows, header=hdr), 1, [F, col])
    hdr = HEADER + ["Channel", "Discount"]
    rows = [r + ["web", "0"] for r in BASE]
    c.data_case("format", "extra-columns", "two columns retain does not use: read as usual",
                csv_bytes(rows, header=hdr), 0)
    order = [6, 4, 0, 1, 3, 5, 7, 2]
    c.data_case("format", "reordered-columns", "the columns in another order: read by name",
                csv_bytes([[r[i] for i in order] for r in BASE], header=[HEADER[i] for i in order]),
                0)
    c.data_case("format", "bom", "a UTF-8 byte order mark before the header",
                csv_bytes(BASE, bom=True), 0)
    c.data_case("format", "bom-crlf", "a byte order mark and Windows line endings",
                csv_bytes(BASE, bom=True, eol="\r\n"), 0)
    c.data_case("format", "crlf", "Windows line endings", csv_bytes(BASE, eol="\r\n"), 0)
    c.data_case("format", "crlf-gzip", "Windows line endings inside a .csv.gz",
                gz(csv_bytes(BASE, eol="\r\n")), 0, file="sales.csv.gz")
    mixed = b"".join(
        line + (b"\r\n" if i % 2 else b"\n")
        for i, line in enumerate(csv_bytes(BASE).split(b"\n")[:-1]))
    c.data_case("format", "mixed-line-endings", "LF and CRLF lines mixed", mixed, 0)
    c.data_case("format", "no-final-newline", "the last line has no line break",
                csv_bytes(BASE, final_eol=False), 0)
    c.data_case("format", "trailing-blank-lines", "blank lines after the data",
                csv_bytes(BASE) + b"\n\n\n", 0)
    c.data_case("format", "utf16", "the file saved as UTF-16 (with its byte order mark)",
                b"\xff\xfe" + csv_bytes(MINI).decode().encode("utf-16-le"), 1, [F, "UTF"])
    c.data_case("format", "semicolon-separated", "a semicolon-separated export",
                csv_bytes(MINI).replace(b",", b";"), 1, [F, "missing column"])
    c.data_case("format", "tab-separated", "a tab-separated export",
                csv_bytes(MINI).replace(b",", b"\t"), 1, [F, "missing column"])
    rows = [list(r) for r in BASE]
    rows[29] = rows[29] + ["EXTRA"]
    c.data_case("format", "row-with-too-many-fields", "data row 30 has nine fields: the "
                "extra field is ignored (the README's rule), the row read as the header says",
                csv_bytes(rows), 0)
    rows = [list(r) for r in BASE]
    rows[29] = rows[29][:6]
    c.data_case("format", "row-with-too-few-fields", "data row 30 has six fields: the "
                "missing ones are empty, so the line has no client id and is dropped and counted",
                csv_bytes(rows), 0)
    c.data_case("format", "html-saved-as-csv", "an HTML error page saved as sales.csv",
                b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
                b"<body><h1>502 Bad Gateway</h1></body></html>\n", 1, [F, "missing column"])
    c.data_case("format", "json-saved-as-csv", "a JSON export saved as sales.csv",
                json.dumps([dict(zip(HEADER, r)) for r in MINI[:20]]).encode(), 1, [F])
    c.data_case("format", "binary-garbage-csv", "4 KB of random bytes named sales.csv",
                bytes(rng.randrange(256) for _ in range(4096)), 1, [F])
    c.data_case("format", "zip-named-xlsx", "a spreadsheet (zip) instead of a CSV",
                b"PK\x03\x04\x14\x00\x06\x00" + bytes(rng.randrange(256) for _ in range(1024)),
                1, ["sales.xlsx"], file="sales.xlsx")
    c.data_case("format", "txt-extension", "a CSV named .txt (the README lists .txt)",
                base, 0, file="sales.txt")
    # folders and globs
    half = len(BASE) // 2
    c.case("format", "folder-with-success-and-dot-files",
           "a Spark-style folder: part files, _SUCCESS and dot files (skipped)",
           every_reader("data", 0),
           files={"data/part-00000.csv": csv_bytes(BASE[:half]),
                  "data/part-00001.csv": csv_bytes(BASE[half:]),
                  "data/_SUCCESS": b"", "data/.part-00000.csv.crc": b"\x00\x01crc"})
    by_year = {}
    for r in BASE:
        by_year.setdefault(r[COL["InvoiceDate"]][:4], []).append(r)
    c.case("format", "hive-folders", "hive-style year=YYYY folders",
           every_reader("data", 0),
           files={f"data/year={y}/part-0.csv": csv_bytes(rs) for y, rs in by_year.items()})
    hdr = [h for h in HEADER if h != "Price"]
    c.case("format", "folder-one-file-missing-a-column",
           "a folder whose second file has no `Price` column: refused naming that file",
           every_reader("data", 1, ["data/part-1.csv", "missing column `Price`"]),
           files={"data/part-0.csv": csv_bytes(MINI[:40]),
                  "data/part-1.csv": csv_bytes([[v for h, v in zip(HEADER, r) if h != "Price"]
                                                for r in MINI[40:]], header=hdr)})
    c.case("format", "glob-matches-nothing", "a glob that matches no file",
           every_reader("exports/*.parquet", 1, ["exports/*.parquet"]),
           files={"exports/readme.md": b"nothing here\n"})
    c.case("format", "input-does-not-exist", "an input path that does not exist",
           every_reader("nowhere.csv", 1, ["nowhere.csv"]), shared=["base.csv"])
    # gzip
    gzb = gz(base)
    c.data_case("format", "gzip-truncated-half", "a .csv.gz cut in the middle (download cut)",
                gzb[: len(gzb) // 2], 1, ["sales.csv.gz"], file="sales.csv.gz")
    c.data_case("format", "gzip-truncated-10-bytes", "a .csv.gz cut after its header",
                gzb[:10], 1, ["sales.csv.gz"], file="sales.csv.gz")
    c.data_case("format", "gzip-garbage", "random bytes named .csv.gz",
                bytes(rng.randrange(256) for _ in range(2048)), 1, ["sales.csv.gz", "gzip"],
                file="sales.csv.gz")
    flipped = bytearray(gzb)
    flipped[len(flipped) // 2] ^= 0xFF
    c.data_case("format", "gzip-flipped-byte", "one byte of the deflate stream flipped",
                bytes(flipped), 1, ["sales.csv.gz"], file="sales.csv.gz")
    bad_crc = bytearray(gzb)
    bad_crc[-8] ^= 0x01
    c.data_case("format", "gzip-bad-checksum", "the gzip trailer's CRC-32 does not match",
                bytes(bad_crc), 1, ["sales.csv.gz"], file="sales.csv.gz")
    c.data_case("format", "gzip-multi-member", "a .csv.gz of two concatenated gzip members "
                "(what `cat a.gz b.gz` makes): both read",
                gz(csv_bytes(BASE[:half])) + gz(csv_bytes(BASE[half:], header=None)), 0,
                file="sales.csv.gz")
    # parquet
    pq = tx_parquet(BASE)
    c.data_case("format", "parquet-valid", "a Parquet file (int64 timestamps, int64 ids)", pq,
                0, file="sales.parquet")
    c.data_case("format", "parquet-text-timestamps", "a Parquet file with text timestamps",
                tx_parquet(BASE, ts_type="text"), 0, file="sales.parquet")
    P = "sales.parquet"
    mpq = tx_parquet(MINI)
    c.data_case("format", "parquet-truncated-half", "a Parquet file cut in the middle",
                mpq[: len(mpq) // 2], 1, [P], file=P)
    c.data_case("format", "parquet-truncated-footer", "a Parquet file without its last 4 bytes",
                mpq[:-4], 1, [P], file=P)
    c.data_case("format", "parquet-magic-only", "just the 4 magic bytes", b"PAR1", 1, [P], file=P)
    c.data_case("format", "parquet-empty-file", "a 0-byte .parquet", b"", 1, [P], file=P)
    c.data_case("format", "parquet-garbage", "random bytes named .parquet",
                bytes(rng.randrange(256) for _ in range(2048)), 1, [P], file=P)
    bad = bytearray(mpq)
    bad[-6] ^= 0x40
    c.data_case("format", "parquet-flipped-footer-length", "the footer length is wrong",
                bytes(bad), 1, [P], file=P)
    bad = bytearray(mpq)
    bad[-1] ^= 0x01
    c.data_case("format", "parquet-flipped-magic", "the trailing magic is damaged", bytes(bad),
                1, [P], file=P)
    # the first string length of the first page (Invoice): after "PAR1", the page header and
    # the definition levels
    bad = bytearray(mpq)
    flen = struct.unpack("<I", mpq[-8:-4])[0]
    footer_at = len(mpq) - 8 - flen
    pos = mpq.index(b"\x00\x00\x00" + MINI[0][0].encode()[:1], 4) - 1
    assert pos < footer_at
    bad[pos + 3] = 0x7F
    c.data_case("format", "parquet-flipped-string-length",
                "a byte flipped in a data page: a string length runs past the page",
                bytes(bad), 1, [P], file=P)
    bad = bytearray(mpq)
    at = mpq.index(b"Customer ID", footer_at)
    bad[at + 8] = ord("!")
    c.data_case("format", "parquet-flipped-column-name",
                "a byte flipped in the footer's schema: `Customer ID` reads `Customer!ID`",
                bytes(bad), 1, [P, "missing column `Customer ID`"], file=P)
    c.data_case("empty", "parquet-no-rows", "a valid Parquet file with no rows",
                tx_parquet([]), 1, [P, "empty"], file=P)
    c.data_case("values", "parquet-quantity-as-text",
                "Quantity stored as text in Parquet, one value `four` at row 9",
                tx_parquet(MINI, qty=(PQ_BYTE_ARRAY, [("four" if i == 8 else r[3])
                                                      for i, r in enumerate(MINI)])),
                1, [P, "row 9", "`Quantity`", "four"], file=P)
    c.data_case("values", "parquet-price-nan", "a NaN double in Price at row 12",
                tx_parquet(MINI, price=(PQ_DOUBLE, [float("nan") if i == 11 else float(r[5])
                                                    for i, r in enumerate(MINI)])),
                1, [P, "row 12", "`Price`"], file=P)
    c.data_case("values", "parquet-price-inf", "an infinite double in Price at row 12",
                tx_parquet(MINI, price=(PQ_DOUBLE, [float("inf") if i == 11 else float(r[5])
                                                    for i, r in enumerate(MINI)])),
                1, [P, "row 12", "`Price`"], file=P)

    # ---------------------------------------------------------------- empty
    c.data_case("empty", "zero-bytes", "a 0-byte file", b"", 1, [F, "empty"])
    c.data_case("empty", "header-only", "a header and no data row", csv_bytes([]), 1,
                [F, "empty"])
    c.data_case("empty", "header-only-crlf", "a header with CRLF and no data row",
                csv_bytes([], eol="\r\n"), 1, [F, "empty"])
    c.data_case("empty", "blank-lines-only", "three blank lines", b"\n\n\n", 1, [F])
    c.data_case("empty", "header-and-blank-lines", "a header then blank lines",
                csv_bytes([]) + b"\n\n", 1, [F, "empty"])
    c.data_case("empty", "gzip-of-nothing", "a valid gzip of 0 bytes", gz(b""), 1,
                ["sales.csv.gz", "empty"], file="sales.csv.gz")
    c.data_case("empty", "gzip-header-only", "a gzip of a header alone", gz(csv_bytes([])), 1,
                ["sales.csv.gz", "empty"], file="sales.csv.gz")
    c.case("empty", "folder-without-data-files", "a folder with only _SUCCESS and a dot file",
           every_reader("data", 1, ["data"]),
           files={"data/_SUCCESS": b"", "data/.hidden.csv": csv_bytes(MINI[:5])})
    c.case("empty", "folder-with-header-only-file", "a folder whose only file has no rows",
           every_reader("data", 1, ["data/part-0.csv", "empty"]),
           files={"data/part-0.csv": csv_bytes([])})
    c.data_case("empty", "all-ids-empty", "every line has an empty Customer ID: no client at all",
                csv_bytes(with_all(MINI, "Customer ID", "")), 1, [F, "Customer ID"])
    rows = [list(r) for r in MINI]
    for r in rows:
        r[0] = "C" + r[0].lstrip("C")
        r[3] = str(-abs(int(r[3])))
    c.data_case("empty", "only-returns", "every line is a return: nobody ever bought",
                csv_bytes(rows), 1, [])

    # ---------------------------------------------------------------- values
    bad_numbers = [
        ("text", "four"), ("empty", ""), ("nan", "NaN"), ("nan-lower", "nan"),
        ("inf", "inf"), ("minus-inf", "-inf"), ("overflow", "1e400"),
        ("decimal-comma", "3,5"), ("hex", "0x10"), ("two-dots", "3.5.1"),
        ("currency", "€3.50"), ("thousands", "1,000"),
    ]
    for col, row in (("Quantity", 23), ("Price", 37)):
        for tag, value in bad_numbers:
            needles = [F, f"row {row}", f"`{col}`"] + ([value] if value else [])
            c.data_case("values", f"{col.lower()}-{tag}",
                        f"{col} `{value}` at data row {row}",
                        csv_bytes(with_cell(MINI, row, col, value)), 1, needles)
    c.data_case("values", "revenue-overflows", "Quantity 1e200 times Price 1e200 at row 41 is "
                "infinite revenue", csv_bytes(with_cell(with_cell(MINI, 41, "Quantity", "1e200"),
                                                        41, "Price", "1e200")),
                1, [F, "row 41"])
    c.data_case("values", "quantity-1e308", "Quantity 1e308 at row 41: revenue overflows",
                csv_bytes(with_cell(MINI, 41, "Quantity", "1e308")), 1, [F, "row 41"])
    c.data_case("values", "fractional-quantity", "a quantity of 2.5 (sold by weight): valid",
                csv_bytes(with_cell(BASE, 23, "Quantity", "2.5")), 0)
    c.data_case("values", "huge-finite-quantity", "a quantity of 1e9: odd but finite",
                csv_bytes(with_cell(BASE, 23, "Quantity", "1000000000")), [0, 1])
    c.data_case("values", "empty-country", "an empty Country: no category for that line",
                csv_bytes(with_cell(BASE, 23, "Country", "")), 0)
    c.data_case("values", "empty-invoice", "an empty Invoice: the line is its own order",
                csv_bytes(with_cell(BASE, 23, "Invoice", "")), 0)
    c.data_case("values", "empty-stockcode", "an empty StockCode: no product for that line",
                csv_bytes(with_cell(BASE, 23, "StockCode", "")), 0)

    # ---------------------------------------------------------------- dates
    def date_case(name, about, value, row=31, needles=None, exit=1, rows=MINI, extra=(),
                  only=None):
        n = needles if needles is not None else [F, f"row {row}", "`InvoiceDate`", value]
        c.data_case("dates", name, about, csv_bytes(with_cell(rows, row, "InvoiceDate", value)),
                    exit, n, extra=extra, only=only)

    date_case("year-2099", "one line dated 2099 would become the default cutoff",
              "2099-06-10 10:00:00", needles=[F, "row 31", "2099-06-10 10:00:00", "--as-of"])
    date_case("year-1", "one line dated year 1", "0001-06-10 10:00:00",
              needles=[F, "row 31", "0001-06-10 10:00:00", "1900-01-01"])
    date_case("year-1899", "one line dated 1899-12-31", "1899-12-31 10:00:00",
              needles=[F, "row 31", "1899-12-31 10:00:00", "1900-01-01"])
    date_case("year-99999", "one line dated year 99999", "99999-06-10 10:00:00")
    date_case("year-plus-99999", "one line dated +99999 (chrono's extended year)",
              "+99999-06-10 10:00:00")
    date_case("year-2099-with-as-of", "a line dated 2099 with --as-of 2100-01-01: accepted",
              "2099-06-10 10:00:00", rows=BASE, exit=0, needles=[], extra=["--as-of", "2100-01-01"],
              only=["features", "kpis"])
    for tag, value in [("feb-30", "2023-02-30 10:00:00"), ("feb-29-2023", "2023-02-29 10:00:00"),
                       ("apr-31", "2023-04-31 10:00:00"), ("month-13", "2023-13-01 10:00:00"),
                       ("month-00", "2023-00-10 10:00:00"), ("day-00", "2023-06-00 10:00:00"),
                       ("hour-25", "2023-06-10 25:00:00"), ("minute-61", "2023-06-10 10:61:00"),
                       ("hour-24", "2023-06-10 24:00:00")]:
        date_case(f"invalid-{tag}", f"an impossible timestamp `{value}`", value)
    for tag, value in [("day-month-year", "10/06/2023 10:00"),
                       ("slashes", "2023/06/10 10:00:00"), ("words", "June 10 2023 10:00"),
                       ("iso-t", "2023-06-10T10:00:00"), ("date-only", "2023-06-10"),
                       ("epoch-seconds", "1686391200"), ("null-text", "NULL"),
                       ("with-offset", "2023-06-10 10:00:00+02:00")]:
        date_case(f"mixed-format-{tag}", f"one line in another format: `{value}`", value)
    date_case("empty-date", "an empty InvoiceDate at row 31", "",
              needles=[F, "row 31", "`InvoiceDate`"])
    leap = with_cell(BASE, len(BASE), "InvoiceDate", "2024-02-29 10:00:00")
    c.data_case("dates", "leap-day", "a line on 2024-02-29: a real day", csv_bytes(leap), 0)
    shuffled = list(BASE)
    random.Random(7).shuffle(shuffled)
    c.data_case("dates", "shuffled-lines", "the lines in random order", csv_bytes(shuffled), 0)
    iso = [r[:4] + [r[4].replace(" ", "T")] + r[5:] for r in MINI]
    c.data_case("dates", "whole-file-iso-t-with-preset",
                "every timestamp as 2023-06-10T10:00:00, which the preset's format is not",
                csv_bytes(iso), 1, [F, "row 1", "`InvoiceDate`", iso[0][4]])
    as_of = "2023-06-30"
    after = [i for i, r in enumerate(BASE) if r[4][:10] > as_of]
    c.case("dates", "lines-after-as-of",
           f"--as-of {as_of}: the lines after it are refused, naming the first and the count",
           every_reader("base.csv", 1, ["base.csv", f"row {after[0] + 1}", BASE[after[0]][4],
                                        "--as-of", f"{len(after)} lines"],
                        extra=["--as-of", as_of]),
           shared=["base.csv"])

    # ---------------------------------------------------------------- ids
    def id_case(name, about, mapping, exit=0, cls="ids", needles=(), only=None, expect=None):
        """The base with client ids replaced (mapping: old id -> new text)."""
        rows = [list(r) for r in BASE]
        for r in rows:
            r[COL["Customer ID"]] = mapping.get(r[COL["Customer ID"]], r[COL["Customer ID"]])
        shown = expect if expect is not None else sorted(set(mapping.values()))[:4]
        c.data_case(cls, name, about, csv_bytes(rows), exit, needles, only=only,
                    ids=shown if exit == 0 else None)

    big = {BASE_IDS[0]: "9007199254740993", BASE_IDS[1]: "9007199254740992",
           BASE_IDS[2]: "9007199254740995"}
    id_case("above-2-pow-53", "ids above 2^53 that one f64 cannot tell apart: three clients",
            big)
    id_case("i64-max", "the largest i64 as an id", {BASE_IDS[0]: "9223372036854775807",
                                                     BASE_IDS[1]: "9223372036854775806"})
    id_case("twenty-digits", "20-digit ids (above i64)",
            {BASE_IDS[0]: "12345678901234567890", BASE_IDS[1]: "12345678901234567891"})
    id_case("forty-digits", "40-digit numeric ids",
            {i: str(10**39 + n) for n, i in zip(range(7, 10**6, 7919), BASE_IDS[:10])})
    id_case("leading-zeros", "two spellings of one integer id (000123, 00123): refused, naming both",
            {BASE_IDS[0]: "000123", BASE_IDS[1]: "00123"}, exit=1,
            needles=[F, '"000123"', '"00123"'])
    id_case("string-c-prefix", "every id like C-00123",
            {i: f"C-{int(i) - 12000:05d}" for i in BASE_IDS})
    id_case("uuid", "every id a UUID",
            {i: "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                                 rng.getrandbits(12), rng.getrandbits(12),
                                                 rng.getrandbits(48)) for i in BASE_IDS})
    id_case("email", "every id an e-mail address",
            {i: f"client.{i}@example.com" for i in BASE_IDS})
    id_case("forty-char-strings", "every id a 40-character string",
            {i: ("ACCT-" + i + "-" + "x" * 40)[:40] for i in BASE_IDS})
    id_case("unicode", "ids with non-ASCII letters",
            {BASE_IDS[0]: "Müller-7", BASE_IDS[1]: "客户-42", BASE_IDS[2]: "Ødegård"})
    id_case("with-comma-and-spaces", "ids with a comma and spaces (quoted in the CSV)",
            {BASE_IDS[0]: "Smith, J", BASE_IDS[1]: "ACME LTD 7"})
    id_case("mixed-numeric-and-text", "some ids numeric, some text",
            {BASE_IDS[0]: "C-1", BASE_IDS[1]: "alpha"},
            expect=["C-1", "alpha", BASE_IDS[5]])
    id_case("some-empty", "a few lines without a client id: dropped and counted",
            {BASE_IDS[3]: ""}, expect=[BASE_IDS[4]])
    # Parquet ids
    pq_ids = [{BASE_IDS[0]: 9007199254740993, BASE_IDS[1]: 9007199254740992}.get(
        r[6], int(r[6])) for r in BASE]
    c.data_case("ids", "parquet-int64-above-2-pow-53",
                "int64 Parquet ids above 2^53: two clients, not one",
                tx_parquet(BASE, ids=pq_ids), 0, file=P,
                ids=["9007199254740993", "9007199254740992"])
    c.data_case("ids", "parquet-string-ids", "string ids in Parquet",
                tx_parquet(BASE, ids=[f"C-{int(r[6]) - 12000:05d}" for r in BASE],
                           id_type="string"), 0, file=P,
                ids=[f"C-{int(BASE_IDS[0]) - 12000:05d}"])
    c.data_case("ids", "parquet-int32-ids", "int32 ids in Parquet",
                tx_parquet(BASE, id_type="int32"), 0, file=P, ids=[BASE_IDS[0]])
    c.data_case("ids", "parquet-null-ids", "some null ids in Parquet: dropped and counted",
                tx_parquet(BASE, ids=[None if r[6] == BASE_IDS[2] else r[6] for r in BASE]),
                0, file=P, ids=[BASE_IDS[0]])
    c.data_case("ids", "parquet-boolean-id-column",
                "a boolean Customer ID column: not an id, refused naming the column",
                tx_parquet(MINI, ids=[int(r[6]) % 2 == 0 for r in MINI], id_type="bool"),
                1, [P, "Customer ID"], file=P)
    c.data_case("ids", "parquet-all-ids-null", "every id null in Parquet",
                tx_parquet(MINI, ids=[None] * len(MINI)), 1, [P, "Customer ID"], file=P)

    # ---------------------------------------------------------------- windows
    L = BASE_LAST_DAY
    def window(name, about, args, exit, needles, shared=("base.csv",), cls="windows"):
        c.case(cls, name, about, [run(args, exit, needles)], shared=list(shared))

    window("labels-cutoff-after-data", "features --labels 91 with a cutoff after the last day",
           cmd_features("base.csv", ["--labels", "91", "--cutoff", "2024-03-01"]), 1,
           ["2024-03-01", L])
    window("labels-window-past-last-day", "the label window runs past the last day",
           cmd_features("base.csv", ["--labels", "91", "--cutoff", day_offset(L, -30)]), 1,
           [day_offset(L, -30), L])
    window("labels-window-one-day-past", "the label window ends one day after the last day",
           cmd_features("base.csv", ["--labels", "91", "--cutoff", day_offset(L, -90)]), 1,
           [day_offset(L, -90), L])
    window("labels-window-exactly-covered", "the label window ends on the last day: valid",
           cmd_features("base.csv", ["--labels", "91", "--cutoff", day_offset(L, -91)]), 0, [])
    window("labels-longer-than-data", "--labels 36500 with the default cutoff",
           cmd_features("base.csv", ["--labels", "36500"]), 1, ["no client"])
    window("labels-overflowing", "--labels 4294967295",
           cmd_features("base.csv", ["--labels", "4294967295"]), 2, ["--labels", "4294967295"])
    for cmd in ("evaluate", "train", "kpis"):
        make = READERS[cmd]
        window(f"{cmd}-horizon-overflowing", f"{cmd} --horizon 4294967295 (panicked once)",
               make("base.csv", ["--horizon", "4294967295"]), 2, ["--horizon", "4294967295"])
        window(f"{cmd}-horizon-zero", f"{cmd} --horizon 0",
               make("base.csv", ["--horizon", "0"]), 2, ["--horizon", "0"])
    window("evaluate-cutoff-after-data", "evaluate with a cutoff after the last day",
           cmd_evaluate("base.csv", ["--cutoff", "2024-03-01"]), 1, ["2024-03-01"])
    window("evaluate-holdout-past-last-day", "evaluate's holdout window runs past the data",
           cmd_evaluate("base.csv", ["--cutoff", day_offset(L, -30)]), 1,
           [day_offset(L, -30)])
    window("evaluate-training-before-data", "evaluate --horizon 400: the training window starts "
           "before the first day", cmd_evaluate("base.csv", ["--horizon", "400"]), 1, [])
    window("evaluate-cutoffs-before-data", "evaluate --cutoffs 10: early cutoffs have no data",
           cmd_evaluate("base.csv", ["--cutoffs", "10"]), 1, ["cutoffs"])
    window("train-windows-before-data", "train --train-windows 20 reaches before the data",
           cmd_train("base.csv", ["--train-windows", "20"]), 1, ["windows"])
    window("evaluate-windows-before-data", "evaluate --train-windows 20 reaches before the data",
           cmd_evaluate("base.csv", ["--train-windows", "20"]), 1, ["windows"])
    window("evaluate-train-horizon-too-long", "evaluate --train-horizon 700",
           cmd_evaluate("base.csv", ["--train-horizon", "700"]), 1, [])
    window("train-train-horizon-zero", "train --train-horizon 0",
           cmd_train("base.csv", ["--train-horizon", "0"]), 2, ["--train-horizon", "0"])
    window("evaluate-cutoff-spacing-zero", "evaluate --cutoffs 2 --cutoff-spacing 0",
           cmd_evaluate("base.csv", ["--cutoffs", "2", "--cutoff-spacing", "0"]), 2,
           ["--cutoff-spacing", "0"])
    window("train-spacing-zero", "train --train-windows 2 --train-spacing 0",
           cmd_train("base.csv", ["--train-windows", "2", "--train-spacing", "0"]), 2,
           ["--train-spacing", "0"])
    before = day_offset(BASE_FIRST_DAY, -100)
    window("features-cutoff-before-first-purchase", "features at a cutoff before any purchase",
           cmd_features("base.csv", ["--cutoff", before]), 1, ["no client", before], cls="empty")
    window("train-cutoff-before-first-purchase", "train at a cutoff before any purchase",
           cmd_train("base.csv", ["--cutoff", before]), 1, [before], cls="empty")
    window("evaluate-cutoff-before-first-purchase", "evaluate at a cutoff before any purchase",
           cmd_evaluate("base.csv", ["--cutoff", before]), 1, [before], cls="empty")
    c.case("empty", "score-date-before-first-purchase", "score at a date before any purchase",
           [run(cmd_score("base.csv", ["--date", before]), 1, ["no client", before]),
            run(cmd_plan("base.csv", ["--date", before]), 1, ["no client", before])],
           shared=["base.csv"])

    # ---------------------------------------------------------------- flags
    def flag_case(name, about, runs, exit=2, cls="flags"):
        c.case(cls, name, about, runs, shared=["base.csv"])

    for cmd, fl in (("train", "--horizon"), ("evaluate", "--horizon"), ("kpis", "--horizon"),
                    ("features", "--labels"), ("evaluate", "--train-horizon"),
                    ("score", "--margin"), ("plan", "--margin"), ("score", "--reasons"),
                    ("score", "--drift-threshold"), ("evaluate", "--bootstrap"),
                    ("score", "--discount-rate"), ("plan", "--plan-days"),
                    ("plan", "--holdout-share"), ("kpis", "--key-share"),
                    ("score", "--key-share")):
        value = "-5" if fl not in ("--discount-rate",) else "-1.5"
        args = READERS[cmd]("base.csv", [fl, value])
        if fl == "--bootstrap":
            args = ["evaluate", "-i", "base.csv", "-o", "out/evaluation.json", fl, value]
        flag_case(f"{cmd}{fl}-negative", f"{cmd} {fl} {value}: a negative number",
                  [run(args, 2, [fl, value])])
    for cmd, fl, value in (("score", "--margin", "NaN"), ("score", "--margin", "inf"),
                           ("score", "--margin", "2"), ("score", "--key-share", "1.5"),
                           ("score", "--key-share", "0"), ("score", "--key-share", "NaN"),
                           ("kpis", "--key-share", "0"), ("kpis", "--key-share", "1.5"),
                           ("score", "--drift-threshold", "NaN"),
                           ("score", "--discount-rate", "NaN"),
                           ("plan", "--plan-days", "0"), ("plan", "--holdout-share", "1.5"),
                           ("plan", "--holdout-share", "NaN"),
                           ("score", "--bands", "0.75,0.5"), ("score", "--bands", "0.5,1.5"),
                           ("score", "--bands", "NaN,0.7"),
                           ("features", "--cutoff", "2023-02-30"),
                           ("score", "--date", "2023-13-01"),
                           ("features", "--as-of", "2023-02-30"),
                           ("plan", "--plan-start", "next-monday"),
                           ("train", "--horizon", "abc"), ("train", "--horizon", "1.5"),
                           ("kpis", "--period", "week"), ("evaluate", "--cutoffs", "0")):
        tag = value.lower().replace(",", "-").replace(".", "_")
        flag_case(f"{cmd}{fl}-{tag}", f"{cmd} {fl} {value}",
                  [run(READERS[cmd]("base.csv", [fl, value]), 2, [fl] + value.split(","))])
    flag_case("bands-as-documented", "score --bands 0.5,0.75, the form the README documents",
              [run(cmd_score("base.csv", ["--bands", "0.5,0.75"]), 0)], exit=0)
    flag_case("unknown-flag", "features --cutof 2023-01-01 (a typo)",
              [run(cmd_features("base.csv", ["--cutof", "2023-01-01"]), 2, ["--cutof"])])
    flag_case("format-xml", "--format xml",
              [run(cmd_kpis("base.csv", ["--format", "xml"]), 2, ["xml"])])
    flag_case("unknown-preset", "-l sap: lists the presets",
              [run(cmd_features("base.csv", ["-l", "sap"]), 1, ["sap", "online-retail-ii, cdnow"]),
               run(cmd_train("base.csv", ["-l", "sap"]), 1, ["sap", "online-retail-ii, cdnow"]),
               run(cmd_score("base.csv", ["-l", "sap"]), 1, ["sap", "online-retail-ii, cdnow"])])
    flag_case("rank-by-value-without-value-model",
              "score --rank-by value_at_risk with no value model to rank by",
              [run(["score", "-i", "base.csv", "-m", "models/churn", "--rank-by", "value_at_risk",
                    "-o", "out/scores"], [1, 2], ["value model"])])
    c.cases[-1]["fixtures"] = [{"fixture": "models", "from": "models/churn",
                                "to": "models/churn"}]

    # ---------------------------------------------------------------- config
    def config_case(name, about, toml, exit, needles, only=("features", "train", "score",
                                                             "kpis"), files=None, cls="config",
                    inp="base.csv", extra=()):
        fs = {"retain.toml": toml.encode() if isinstance(toml, str) else toml}
        fs.update(files or {})
        c.case(cls, name, about, every_reader(inp, exit, needles, only=only, extra=extra),
               files=fs, shared=["base.csv"] if inp == "base.csv" else [])

    layout = ('[layout]\nclient_id = "Customer ID"\ntimestamp = "InvoiceDate"\n'
              'quantity = "Quantity"\nunit_price = "Price"\ninvoice = "Order"\n')
    config_case("syntax-error", "an unclosed table header on line 3",
                'preset = "online-retail-ii"\n\n[layout\nclient_id = "x"\n', 1,
                ["retain.toml", "line 3"])
    config_case("unknown-top-level-key", "`inptu` instead of `input`",
                'inptu = "base.csv"\n', 1, ["retain.toml", "inptu"])
    config_case("unknown-layout-key", "`client` instead of `client_id` in [layout]",
                '[layout]\nclient = "Customer ID"\ntimestamp = "InvoiceDate"\namount = "Price"\n',
                1, ["retain.toml", "client"])
    config_case("input-wrong-type", "input = 5", "input = 5\n", 1, ["retain.toml", "input"],
                extra=())
    config_case("returns-wrong-type", "negative_quantity = \"yes\"",
                '[layout]\nclient_id = "Customer ID"\ntimestamp = "InvoiceDate"\n'
                'quantity = "Quantity"\nunit_price = "Price"\n[layout.returns]\n'
                'negative_quantity = "yes"\n', 1, ["retain.toml", "negative_quantity"])
    config_case("unknown-preset", "preset = \"sap\"", 'preset = "sap"\n', 1,
                ["sap", "online-retail-ii"])
    config_case("preset-wrong-type", "preset = [\"cdnow\"]", 'preset = ["cdnow"]\n', 1,
                ["retain.toml", "preset"])
    config_case("layout-column-not-in-file", "client_id = \"customer\" names no column",
                '[layout]\nclient_id = "customer"\ntimestamp = "InvoiceDate"\n'
                'quantity = "Quantity"\nunit_price = "Price"\n', 1,
                ["base.csv", "missing column `customer`"])
    config_case("timestamp-format-mismatch", "timestamp_format %d/%m/%Y %H:%M against ISO dates",
                '[layout]\nclient_id = "Customer ID"\ntimestamp = "InvoiceDate"\n'
                'timestamp_format = "%d/%m/%Y %H:%M"\nquantity = "Quantity"\n'
                'unit_price = "Price"\n', 1,
                ["base.csv", "row 1", "`InvoiceDate`", BASE[0][4]])
    config_case("timestamp-format-invalid", "timestamp_format = \"%Q\" (no such directive)",
                '[layout]\nclient_id = "Customer ID"\ntimestamp = "InvoiceDate"\n'
                'timestamp_format = "%Q"\nquantity = "Quantity"\nunit_price = "Price"\n', 1,
                ["%Q"])
    config_case("layout-without-client-id", "a [layout] with no client_id",
                '[layout]\ntimestamp = "InvoiceDate"\nquantity = "Quantity"\nunit_price = "Price"\n',
                1, ["retain.toml", "client_id"])
    config_case("layout-without-value", "a [layout] with neither amount nor quantity and price",
                '[layout]\nclient_id = "Customer ID"\ntimestamp = "InvoiceDate"\n', 1,
                ["amount"])
    c.case("config", "input-missing", "retain.toml names an input that does not exist",
           [run(["features", "-o", "out/features.csv"], 1, ["exports"]),
            run(["kpis", "-o", "out/kpis"], 1, ["exports"])],
           files={"retain.toml": b'input = "exports/"\n'})
    c.case("config", "input-relative-to-config", "--config sub/retain.toml with input "
           "\"../base.csv\": resolved from the file's folder",
           [run(["features", "-c", "sub/retain.toml", "-o", "out/features.csv"], 0),
            run(["kpis", "-c", "sub/retain.toml", "-o", "out/kpis"], 0)],
           files={"sub/retain.toml": b'input = "../base.csv"\n'}, shared=["base.csv"])
    config_case("empty-file", "an empty retain.toml: the defaults", "", 0, [])
    config_case("invalid-utf8", "retain.toml with a Latin-1 byte",
                b'preset = "online-retail-ii"\n# caf\xe9\n', 1, ["retain.toml"])
    c.case("config", "config-flag-missing-file", "--config names a file that does not exist",
           [run(cmd_features("base.csv", ["-c", "missing.toml"]), 1, ["missing.toml"]),
            run(cmd_kpis("base.csv", ["-c", "missing.toml"]), 1, ["missing.toml"])],
           shared=["base.csv"])
    config_case("layout-detects-iso-t", "a custom layout without timestamp_format over ISO "
                "`T` timestamps: detected", layout.replace('invoice = "Order"\n', ""), 0, [],
                inp="sales.csv", files={"sales.csv": csv_bytes(
                    [r[:4] + [r[4].replace(" ", "T")] + r[5:] for r in BASE])})
    config_case("layout-detects-date-only", "a custom layout over date-only timestamps",
                layout.replace('invoice = "Order"\n', ""), 0, [], inp="sales.csv",
                files={"sales.csv": csv_bytes([r[:4] + [r[4][:10]] + r[5:] for r in BASE])})
    config_case("empty-return-prefix", "invoice_prefix = \"\": every line would be a return",
                '[layout]\nclient_id = "Customer ID"\ntimestamp = "InvoiceDate"\n'
                'quantity = "Quantity"\nunit_price = "Price"\ninvoice = "Invoice"\n'
                '[layout.returns]\ninvoice_prefix = ""\n', 1, ["invoice_prefix"], cls="empty")
    free = [r[:5] + ["0"] + r[6:] for r in MINI]
    config_case("all-lines-free", "drop_free_purchases with every price 0: no line left",
                '[layout]\nclient_id = "Customer ID"\ntimestamp = "InvoiceDate"\n'
                'quantity = "Quantity"\nunit_price = "Price"\n[layout.returns]\n'
                'drop_free_purchases = true\n', 1, [], cls="empty", inp="sales.csv",
                files={"sales.csv": csv_bytes(free)})
    config_case("cdnow-preset-on-csv", "-l cdnow on a comma-separated file with a header",
                "", 1, ["base.csv", "row"], extra=["-l", "cdnow"])
    cdnow = b"".join(b"%08d %s %d %.2f\n" % (int(r[6]), r[4][:10].replace("-", "").encode(),
                                            abs(int(r[3])), float(r[5])) for r in MINI)
    config_case("online-retail-preset-on-cdnow", "the default layout on a CDNOW-style file",
                "", 1, ["cdnow.txt", "missing column"], inp="cdnow.txt",
                files={"cdnow.txt": cdnow})
    for name, table, needle in (
            ("plan-days-wrong-type", '[plan]\ndays = "seven"\n', "days"),
            ("plan-holdout-out-of-range", "[plan]\nholdout_share = 2.0\n", None),
            ("plan-unknown-key", "[plan]\ncapacity = 5\n", "capacity"),
            ("plan-negative-capacity",
             '[[plan.channels]]\nname = "phone"\ncost = 4.0\ncapacity_per_day = -3\n',
             "capacity_per_day"),
            ("contacts-layout-unknown-key", '[contacts.layout]\nmedium = "channel"\n', "medium")):
        c.case("config", name, f"retain.toml: {table.strip()}",
               [run(cmd_plan("base.csv"), 1, ["retain.toml", needle] if needle
                    else ["holdout_share"])],
               files={"retain.toml": table.encode()}, shared=["base.csv"])

    # ---------------------------------------------------------------- inputs overwritten
    OVW = ["choose another output path"]
    def overwrite(name, about, runs, shared=("base.csv",), files=None):
        c.case("overwrite", name, about, runs, shared=list(shared), files=files)

    overwrite("features-o-equals-input", "features -i base.csv -o base.csv",
              [run(["features", "-i", "base.csv", "-o", "base.csv"], 1, ["base.csv"] + OVW)])
    overwrite("features-o-dot-slash-input", "features -i base.csv -o ./base.csv",
              [run(["features", "-i", "base.csv", "-o", "./base.csv"], 1, ["base.csv"] + OVW)])
    overwrite("features-o-dotdot-input", "features -i base.csv -o sub/../base.csv, no folder sub",
              [run(["features", "-i", "base.csv", "-o", "sub/../base.csv"], 1, ["base.csv"] + OVW,
                   outputs=[])])
    overwrite("features-o-dotdot-input-folder-exists",
              "features -i base.csv -o sub/../base.csv, with a folder sub",
              [run(["features", "-i", "base.csv", "-o", "sub/../base.csv"], 1, ["base.csv"] + OVW,
                   outputs=[])], files={"sub/readme.md": b"a folder that exists\n"})
    overwrite("features-o-absolute-input", "features -i base.csv -o <absolute path of base.csv>",
              [run(["features", "-i", "base.csv", "-o", "{dir}/base.csv"], 1, ["base.csv"] + OVW)])
    overwrite("evaluate-o-equals-input", "evaluate -i base.csv -o base.csv",
              [run(["evaluate", "-i", "base.csv", "-o", "base.csv"], 1, ["base.csv"] + OVW)])
    overwrite("score-o-stem-of-input", "score -i base.csv -o base (writes base.csv)",
              [run(["score", "-i", "base.csv", "-o", "base"], 1, ["base.csv"] + OVW)])
    overwrite("plan-o-stem-of-input", "plan -i base.csv -o base",
              [run(["plan", "-i", "base.csv", "-o", "base"], 1, ["base.csv"] + OVW)])
    overwrite("kpis-o-stem-of-input", "kpis -i base.csv -o base",
              [run(["kpis", "-i", "base.csv", "-o", "base"], 1, ["base.csv"] + OVW)])
    overwrite("report-o-equals-input", "report -i base.csv -o base.csv",
              [run(cmd_report("base.csv")[:-1] + ["base.csv"], 1, ["base.csv"] + OVW)])
    overwrite("demo-o-folder-of-input", "demo -i scores.csv -o . (writes ./scores.csv)",
              [run(["demo", "-i", "scores.csv", "-o", ".", "--model-dir", "models/demo-churn",
                    "--value-model-dir", "models/demo-value"], 1, ["scores.csv"] + OVW)],
              shared=(), files={"scores.csv": base})
    overwrite("score-summary-equals-input", "score -i summary.json-named CSV: -o out/scores "
              "would replace out/summary.json, the input",
              [run(["score", "-i", "out/summary.json", "-o", "out/scores"], 1,
                   ["summary.json"] + OVW)],
              shared=(), files={"out/summary.json": base})
    for cmd, args in (("features", ["-o", "data/features.csv"]),
                      ("features-nested", ["-o", "data/sub/features.parquet"]),
                      ("evaluate", ["-o", "data/evaluation.json"]),
                      ("score", ["-o", "data/scores"]),
                      ("kpis", ["-o", "data/kpis"]),
                      ("train", ["-m", "data/churn", "--value-model-dir", "models/value"])):
        real = cmd.split("-")[0]
        full = [real, "-i", "data"] + args
        if real == "score":
            full = [real, "-i", "data", "-m", "models/churn", "--value-model", "models/value"] + args
        overwrite(f"{cmd}-output-inside-input-folder",
                  f"{' '.join(full)}: the next run would read the output as data",
                  [run(full, 1, ["input folder"] + OVW)], shared=(),
                  files={"data/part-0.csv": base})
    overwrite("features-output-inside-glob-folder",
              "features -i 'data/*.csv' -o data/features.csv with an earlier output there: the "
              "glob matches it", [run(["features", "-i", "data/*.csv", "-o", "data/features.csv"],
                                      1, OVW)],
              shared=(), files={"data/part-0.csv": base})
    overwrite("features-output-inside-glob-folder-first-run",
              "features -i 'data/*.csv' -o data/features.csv on the first run: the next run's "
              "glob would match it", [run(["features", "-i", "data/*.csv", "-o",
                                           "data/features.csv"], 1, OVW, outputs=[])],
              shared=(), files={"data/part-0.csv": base})
    overwrite("output-beside-input-file", "features -i data/base.csv -o data/features.csv: "
              "beside an input file, not in an input folder: allowed",
              [run(["features", "-i", "data/base.csv", "-o", "data/features.csv"], 0)],
              shared=(), files={"data/base.csv": base})
    overwrite("plan-o-stem-of-contacts", "plan --contacts contacts.csv -o contacts",
              [run(cmd_plan("base.csv")[:-2] + ["--contacts", "contacts.csv", "-o", "contacts"],
                   1, ["contacts.csv"] + OVW)], shared=("base.csv", "contacts.csv"))
    overwrite("score-plan-o-stem-of-contacts", "score --plan --contacts contacts.csv -o contacts",
              [run(cmd_score("base.csv")[:-2] + ["--plan", "--contacts", "contacts.csv", "-o",
                                                 "contacts"], 1, ["contacts.csv"] + OVW)],
              shared=("base.csv", "contacts.csv"))
    overwrite("plan-o-stem-of-clients", "plan --clients clients.csv -o clients",
              [run(cmd_plan("base.csv")[:-2] + ["--clients", "clients.csv", "-o", "clients"], 1,
                   ["clients.csv"] + OVW)], shared=("base.csv", "clients.csv"))
    overwrite("kpis-o-stem-of-clients", "kpis --clients clients.csv -o clients",
              [run(["kpis", "-i", "base.csv", "--clients", "clients.csv", "-o", "clients"], 1,
                   ["clients.csv"] + OVW)], shared=("base.csv", "clients.csv"))
    overwrite("report-o-equals-scores", "report --scores fx/scores.parquet -o fx/scores.parquet",
              [run(cmd_report("base.csv")[:-1] + ["fx/scores.parquet"], 1,
                   ["scores.parquet"] + OVW)])
    overwrite("report-o-equals-evaluation",
              "report --evaluation fx/evaluation.json -o fx/evaluation.json",
              [run(cmd_report("base.csv")[:-1] + ["fx/evaluation.json"], 1,
                   ["evaluation.json"] + OVW)])
    overwrite("train-one-folder-for-both", "train -m models/both --value-model-dir models/both",
              [run(["train", "-i", "base.csv", "-m", "models/both", "--value-model-dir",
                    "models/both"], 1, ["models/both"])])
    overwrite("train-one-folder-for-both-alias",
              "train -m models/both --clv-model-dir models/both (the 0.1 alias)",
              [run(["train", "-i", "base.csv", "-m", "models/both", "--clv-model-dir",
                    "models/both"], 1, ["models/both"])])
    overwrite("score-one-folder-for-both", "score -m models/churn --value-model models/churn",
              [run(["score", "-i", "base.csv", "-m", "models/churn", "--value-model",
                    "models/churn", "-o", "out/scores"], 1, ["models/churn"])])
    overwrite("train-over-the-model-being-read",
              "train -m models/churn with --uplift-model-dir models/churn (one folder twice)",
              [run(["train", "-i", "base.csv", "--contacts", "contacts.csv", "-m", "models/churn",
                    "--value-model-dir", "models/value", "--uplift-model-dir", "models/churn"],
                   1, ["models/churn"],
                   outputs=["models/churn/card.json", "models/churn/model.json",
                            "models/value/card.json", "models/value/model.json"])],
              shared=("base.csv", "contacts.csv"))

    # ---------------------------------------------------------------- paths
    def path_case(name, about, runs, shared=("base.csv",)):
        c.case("paths", name, about, runs, shared=list(shared))

    path_case("score-o-keeps-dots", "score -o out/scores.2024.01 writes out/scores.2024.01.csv",
              [run(cmd_score("base.csv")[:-1] + ["out/scores.2024.01"], 0,
                   absent=["out/scores.2024.csv", "out/scores.2024.parquet"])])
    path_case("plan-o-keeps-dots", "plan -o out/plan.v2.final",
              [run(cmd_plan("base.csv")[:-1] + ["out/plan.v2.final"], 0,
                   absent=["out/plan.v2.csv"])])
    path_case("kpis-o-keeps-dots", "kpis -o out/kpis.2024.01",
              [run(cmd_kpis("base.csv")[:-1] + ["out/kpis.2024.01"], 0,
                   absent=["out/kpis.2024.csv", "out/kpis.2024.json"])])
    path_case("score-o-json-lines-keeps-dots", "score --json-lines -o out/scores.2024.01",
              [run(cmd_score("base.csv", ["--json-lines"])[:-3] + ["--json-lines", "-o",
                                                                   "out/scores.2024.01"], 0,
                   absent=["out/scores.2024.jsonl"])])
    path_case("score-o-trailing-slash", "score -o out/ must not write ./out.csv",
              [run(cmd_score("base.csv")[:-1] + ["out/"], [0, 1, 2], outputs=[],
                   absent=["out.csv", "out.parquet"])])
    path_case("kpis-o-trailing-slash", "kpis -o out/ must not write ./out.csv",
              [run(cmd_kpis("base.csv")[:-1] + ["out/"], [0, 1, 2], outputs=[],
                   absent=["out.csv", "out.parquet", "out.json"])])
    path_case("features-o-folder", "features -o out/ (a folder, not a file)",
              [run(cmd_features("base.csv")[:-1] + ["out/"], [1, 2], ["out/"], outputs=[],
                   absent=["out.parquet", "out.csv"])])
    path_case("features-o-under-a-file", "features -o base.csv/features.csv",
              [run(cmd_features("base.csv")[:-1] + ["base.csv/features.csv"], [1, 2],
                   ["base.csv/"], outputs=[])])
    path_case("score-o-under-a-file", "score -o base.csv/scores",
              [run(cmd_score("base.csv")[:-1] + ["base.csv/scores"], [1, 2],
                   ["base.csv/"], outputs=[])])

    # ---------------------------------------------------------------- artifacts
    def artifact(name, about, edits, needles, fixtures=None, runs=None):
        runs = runs or [run(cmd_score("base.csv"), 1, needles),
                        run(cmd_plan("base.csv"), 1, needles)]
        c.case("artifacts", name, about, runs, shared=["base.csv"],
               fixtures=fixtures or MODELS, edits=edits)

    CM, CC = "models/churn/model.json", "models/churn/card.json"
    VM, VC = "models/value/model.json", "models/value/card.json"
    ch = ["models/churn"]
    va = ["models/value"]
    set_ = lambda f, p, v: {"file": f, "pointer": p, "value": v}
    raw = lambda f, p, v: {"file": f, "pointer": p, "raw": v}
    sc = "/classifier/scaler"
    artifact("scale-zero", "a scaler scale of 0", [set_(CM, f"{sc}/scale/0", 0)], ch + ["scale"])
    artifact("scale-negative", "a scaler scale of -1", [set_(CM, f"{sc}/scale/3", -1.0)],
             ch + ["scale"])
    artifact("scale-nan-literal", "a scale written NaN (not JSON)", [raw(CM, f"{sc}/scale/2", "NaN")],
             ch)
    artifact("scale-string", "a scale given as the string \"NaN\"",
             [set_(CM, f"{sc}/scale/2", "NaN")], ch)
    artifact("mean-null", "a scaler mean of null", [set_(CM, f"{sc}/mean/1", None)], ch)
    artifact("coefficient-1e308", "a coefficient of 1e308", [set_(CM, "/classifier/coef/0", 1e308)],
             ch + ["coef"])
    artifact("coefficient-1e400", "a coefficient of 1e400 (beyond f64)",
             [raw(CM, "/classifier/coef/0", "1e400")], ch)
    artifact("coefficient-infinity", "a coefficient written Infinity",
             [raw(CM, "/classifier/coef/4", "Infinity")], ch)
    artifact("coefficient-string", "a coefficient given as \"NaN\"",
             [set_(CM, "/classifier/coef/0", "NaN")], ch)
    artifact("intercept-huge", "an intercept of 1e7", [set_(CM, "/classifier/intercept", 1e7)],
             ch + ["intercept"])
    artifact("intercept-minus-infinity", "an intercept written -Infinity",
             [raw(CM, "/classifier/intercept", "-Infinity")], ch)
    artifact("coefficient-count", "one coefficient fewer than features",
             [{"file": CM, "pointer": "/classifier/coef/28", "remove": True}], ch)
    artifact("scaler-count", "one scaler mean fewer than features",
             [{"file": CM, "pointer": f"{sc}/mean/28", "remove": True}], ch)
    artifact("churn-model-unknown-kind", "model.json says classifier kind \"quantum_forest\"",
             [set_(CM, "/classifier/kind", "quantum_forest")], ch + ["quantum_forest"])
    artifact("churn-model-truncated", "model.json cut to 200 bytes",
             [{"file": CM, "truncate": 200}], ch)
    artifact("churn-model-empty", "model.json of 0 bytes", [{"file": CM, "truncate": 0}], ch)
    artifact("churn-model-deleted", "model.json missing", [{"file": CM, "delete": True}], ch)
    artifact("churn-model-array", "model.json is `[]`", [{"file": CM, "write": "[]\n"}], ch)
    artifact("churn-card-deleted", "card.json missing", [{"file": CC, "delete": True}], ch)
    artifact("churn-card-truncated", "card.json cut to 300 bytes",
             [{"file": CC, "truncate": 300}], ch)
    artifact("churn-card-format-99", "a card of artifact format 99 (a newer retain)",
             [set_(CC, "/format", 99)], ch + ["99", "upgrade"])
    artifact("churn-card-format-1", "a card of artifact format 1 (retain 0.1)",
             [set_(CC, "/format", 1)], ch + ["retrain"])
    artifact("churn-card-unknown-kind", "card kind \"quantum_forest\"",
             [set_(CC, "/kind", "quantum_forest")], ch + ["quantum_forest"])
    artifact("churn-card-value-kind", "a churn folder whose card says bgnbd_gg_clv",
             [set_(CC, "/kind", "bgnbd_gg_clv")], ch + ["bgnbd_gg_clv"])
    artifact("churn-card-feature-renamed", "the card's 4th feature is `T_days`, not `T`",
             [set_(CC, "/features/names/3", "T_days")], ch)
    artifact("churn-card-feature-removed", "the card lists 28 features",
             [{"file": CC, "pointer": "/features/names/28", "remove": True}], ch)
    artifact("churn-card-horizon-zero", "card horizon_days 0", [set_(CC, "/horizon_days", 0)],
             ch + ["horizon"])
    artifact("churn-card-horizon-negative", "card horizon_days -5",
             [set_(CC, "/horizon_days", -5)], ch)
    artifact("churn-card-bad-cutoff", "card training_cutoff 2023-02-30",
             [set_(CC, "/training_cutoff", "2023-02-30")], ch + ["2023-02-30"])
    artifact("value-card-horizon-zero", "value card horizon_days 0",
             [set_(VC, "/horizon_days", 0)], va + ["horizon"])
    artifact("value-card-format-99", "value card of format 99", [set_(VC, "/format", 99)],
             va + ["99"])
    artifact("value-card-unknown-kind", "value card kind \"crystal_ball\"",
             [set_(VC, "/kind", "crystal_ball")], va + ["crystal_ball"])
    bg = "/value/base/model/purchases/core"
    gg = "/value/base/model/spend"
    cb = "/customer_base/model"
    artifact("clv-r-negative", "BG/NBD r = -0.5", [set_(VM, f"{bg}/r", -0.5)], va)
    artifact("clv-alpha-zero", "BG/NBD alpha = 0", [set_(VM, f"{bg}/alpha", 0.0)], va + ["alpha"])
    artifact("clv-a-nan", "BG/NBD a written NaN", [raw(VM, f"{bg}/a", "NaN")], va)
    artifact("clv-b-1e400", "BG/NBD b = 1e400", [raw(VM, f"{bg}/b", "1e400")], va)
    artifact("clv-b-string", "BG/NBD b = \"2.5\" (a string)", [set_(VM, f"{bg}/b", "2.5")], va)
    artifact("gamma-gamma-q-below-1", "Gamma-Gamma q = 0.5", [set_(VM, f"{gg}/q", 0.5)], va)
    artifact("gamma-gamma-q-equal-1", "Gamma-Gamma q = 1 (infinite mean spend)",
             [set_(VM, f"{gg}/q", 1.0)], va)
    artifact("gamma-gamma-p-zero", "Gamma-Gamma p = 0", [set_(VM, f"{gg}/p", 0.0)], va)
    artifact("gamma-gamma-gamma-negative", "Gamma-Gamma gamma = -3",
             [set_(VM, f"{gg}/gamma", -3.0)], va + ["gamma"])
    artifact("customer-base-r-negative", "the customer-base BG/NBD r = -1",
             [set_(VM, f"{cb}/purchases/core/r", -1.0)], va)
    artifact("customer-base-q-below-1", "the customer-base Gamma-Gamma q = 0.9",
             [set_(VM, f"{cb}/spend/q", 0.9)], va)
    artifact("value-model-truncated", "value model.json cut to 150 bytes",
             [{"file": VM, "truncate": 150}], va)
    artifact("value-model-deleted", "value model.json missing", [{"file": VM, "delete": True}], va)
    artifact("value-card-deleted", "value card.json missing", [{"file": VC, "delete": True}], va)
    artifact("pareto-s-negative", "Pareto/NBD s = -1 (train --rfm-model pareto)",
             [set_(VM, "/value/base/model/purchases/s", -1.0)], va,
             fixtures=[{"fixture": "models-pareto", "from": "models", "to": "models"}])
    artifact("pareto-beta-zero", "Pareto/NBD beta = 0",
             [set_(VM, "/value/base/model/purchases/beta", 0.0)], va,
             fixtures=[{"fixture": "models-pareto", "from": "models", "to": "models"}])
    artifact("pair-from-other-data", "the value model was fitted on other clients' data",
             [], ["models/churn", "models/value"],
             fixtures=[{"fixture": "models", "from": "models/churn", "to": "models/churn"},
                       {"fixture": "models-other", "from": "models/value",
                        "to": "models/value"}])
    artifact("pair-from-other-cutoff", "the value model was trained at an earlier cutoff",
             [], ["models/churn", "models/value"],
             fixtures=[{"fixture": "models", "from": "models/churn", "to": "models/churn"},
                       {"fixture": "models-earlier", "from": "models/value",
                        "to": "models/value"}])
    artifact("pair-stale-pareto-value", "a new churn model beside the value model of an "
             "earlier run on other data with --rfm-model pareto",
             [], ["models/churn", "models/value"],
             fixtures=[{"fixture": "models", "from": "models/churn", "to": "models/churn"},
                       {"fixture": "models-other-pareto", "from": "models/value",
                        "to": "models/value"}])
    artifact("pair-card-fingerprint-edited", "the churn card's data fingerprint differs from "
             "the value card's", [set_(CC, "/data_source/lines_sha256", "0" * 64)],
             ["models/churn", "models/value"])
    artifact("swapped-folders", "-m models/value --value-model models/churn", [],
             ["models/value"],
             runs=[run(["score", "-i", "base.csv", "-m", "models/value", "--value-model",
                        "models/churn", "-o", "out/scores"], 1, ["models/value"])])
    artifact("churn-folder-missing", "-m models/none", [], ["models/none"],
             runs=[run(["score", "-i", "base.csv", "-m", "models/none", "-o", "out/scores"], 1,
                       ["models/none"]),
                   run(["plan", "-i", "base.csv", "-m", "models/none", "-o", "out/plan"], 1,
                       ["models/none"])])
    artifact("value-folder-missing", "--value-model models/none", [], ["models/none"],
             runs=[run(["score", "-i", "base.csv", "-m", "models/churn", "--value-model",
                        "models/none", "-o", "out/scores"], 1, ["models/none"])])
    artifact("churn-folder-is-a-file", "-m names a file", [], ["base.csv"],
             runs=[run(["score", "-i", "base.csv", "-m", "base.csv", "-o", "out/scores"], 1,
                       ["base.csv"])])

    # ---------------------------------------------------------------- atomic
    def atomic(name, about, runs, shared=("base.csv",), fixtures=None, files=None):
        c.case("atomic", name, about, runs, shared=list(shared), fixtures=fixtures or (),
               files=files)

    atomic("score-parquet-unwritable", "out/scores.parquet is a folder: the CSV and summary "
           "must not be replaced either", [run(cmd_score("base.csv"), [1, 2],
                                               ["out/scores.parquet"],
                                               dirs=["out/scores.parquet"])])
    atomic("score-summary-unwritable", "out/summary.json is a folder",
           [run(cmd_score("base.csv"), [1, 2], ["summary.json"], dirs=["out/summary.json"])])
    atomic("plan-parquet-unwritable", "out/plan.parquet is a folder",
           [run(cmd_plan("base.csv"), [1, 2], ["out/plan.parquet"], dirs=["out/plan.parquet"])])
    atomic("score-jsonl-unwritable", "score --json-lines with out/scores.jsonl a folder",
           [run(cmd_score("base.csv", ["--json-lines"]), [1, 2], ["out/scores.jsonl"],
                dirs=["out/scores.jsonl"])])
    atomic("kpis-json-unwritable", "out/kpis.json is a folder",
           [run(cmd_kpis("base.csv"), [1, 2], ["out/kpis.json"], dirs=["out/kpis.json"])])
    atomic("train-value-unwritable", "models/new-value is a file, not a folder: the churn "
           "model must not be replaced alone",
           [run(cmd_train("base.csv"), [1, 2], ["models/new-value"],
                outputs=["models/new-churn/card.json", "models/new-churn/model.json"])],
           files={"models/new-value": b"a file where the value model's folder should be\n"})
    atomic("demo-report-unwritable", "out/demo/report.html is a folder",
           [run(cmd_demo("base.csv"), [1, 2], ["report.html"], dirs=["out/demo/report.html"])])
    drift = [r[:5] + ["%.2f" % (float(r[5]) * 40)] + r[6:] for r in BASE]
    atomic("fail-on-drift", "score --fail-on-drift on prices 40 times the training data's",
           [run(cmd_score("sales.csv", ["--fail-on-drift", "-q"]), 1, ["drift"])], shared=(),
           fixtures=MODELS, files={"sales.csv": csv_bytes(drift)})
    one_purchase = []
    seen = set()
    for r in BASE:
        if r[6] not in seen:
            seen.add(r[6])
            one_purchase.append(r)
    atomic("train-clv-cannot-fit", "every client bought once: no repeat buyer for Gamma-Gamma; "
           "train must write both models or neither",
           [run(cmd_train("sales.csv", ["--model", "logistic", "--value-model", "clv"]), 1,
                [])],
           shared=(), files={"sales.csv": csv_bytes(one_purchase)})

    # ---------------------------------------------------------------- messages
    def utf8_case(col, row=17):
        rows = [list(r) for r in MINI]
        raw_v = rows[row - 1][COL[col]].encode() + b"\xff\xfe"
        rows[row - 1] = raw_row(rows[row - 1], col, raw_v)
        c.data_case("messages", f"invalid-utf8-{col.lower().replace(' ', '-')}",
                    f"bytes FF FE (not UTF-8) in `{col}` at data row {row}", csv_bytes(rows), 1,
                    [F, f"row {row}", f"`{col}`", "UTF-8"])

    for col in HEADER:
        utf8_case(col)
    c.data_case("messages", "invalid-utf8-header", "a Latin-1 byte in the header",
                b"Invoice,StockCode,Descripci\xf3n,Quantity,InvoiceDate,Price,Customer ID,Country\n"
                + csv_bytes(MINI, header=None), 1, [F, "UTF-8"])
    rows = [list(r) for r in MINI]
    rows[16] = raw_row(rows[16], "Country", "C\xf4te d'Ivoire".encode("latin-1"))
    c.data_case("messages", "latin1-country", "a Latin-1 encoded country (Côte d'Ivoire)",
                csv_bytes(rows), 1, [F, "row 17", "`Country`", "UTF-8"])
    rows = [list(r) for r in MINI]
    rows[16] = raw_row(rows[16], "Description", b"CAF\xc9 MUG")
    c.data_case("messages", "invalid-utf8-in-gzip", "a Latin-1 byte inside a .csv.gz",
                gz(csv_bytes(rows)), 1, ["sales.csv.gz", "row 17", "UTF-8"], file="sales.csv.gz")
    rows = [list(r) for r in MINI]
    rows[19] = raw_row(rows[19], "Description", b'"UNCLOSED QUOTE MUG')
    c.data_case("messages", "unclosed-quote-mid-file", "a quote opened at data row 20 and never "
                "closed", csv_bytes(rows), 1, [F, "row 20"])
    rows = [list(r) for r in MINI]
    rows[-1] = raw_row(rows[-1], "Description", b'"UNCLOSED AT THE END')
    c.data_case("messages", "unclosed-quote-last-row", "a quote opened on the last row",
                csv_bytes(rows), 1, [F, f"row {len(MINI)}"])
    rows = [list(r) for r in MINI]
    rows[19] = raw_row(rows[19], "Customer ID", b'"' + MINI[19][6].encode())
    c.data_case("messages", "unclosed-quote-in-id", "a quote opened in the Customer ID of row 20",
                csv_bytes(rows), 1, [F, "row 20"])
    rows = [list(r) for r in BASE]
    rows[19][2] = "MUG, BLUE"
    c.data_case("messages", "quoted-comma", "a quoted Description with a comma: valid",
                csv_bytes(rows), 0)
    rows[19][2] = 'THE "BEST" MUG'
    c.data_case("messages", "doubled-quotes", "a quoted Description with doubled quotes: valid",
                csv_bytes(rows), 0)
    rows[19][2] = "TWO\nLINES"
    c.data_case("messages", "quoted-newline", "a quoted Description spanning two lines: valid",
                csv_bytes(rows), 0)
    c.data_case("messages", "cr-only-line-endings", "classic Mac line endings (CR only): "
                "refused naming the file, without echoing it", csv_bytes(BASE, eol="\r"), 1, [F])
    c.data_case("messages", "nul-bytes", "NUL bytes in a Description (a column no layout "
                "role reads) at row 12: read, the text kept as it is",
                csv_bytes(with_cell(BASE, 12, "Description", "MUG\x00\x00")), 0)

    # ---------------------------------------------------------------- contacts
    with gzip.open(SAMPLE / "contacts.csv.gz", "rt", newline="") as f:
        contacts = list(csv.reader(f))
    chdr, contacts = contacts[0], [r for r in contacts[1:] if r[0] in set(BASE_IDS)]
    CCOL = {n: i for i, n in enumerate(chdr)}
    mini_contacts = contacts[::6]

    def contact_runs(path, exit, needles, ids=None):
        runs = [run(cmd_plan("base.csv", ["--contacts", path]), exit, needles),
                run(cmd_score("base.csv", ["--plan", "--contacts", path]), exit, needles)]
        if exit != 0:
            runs.append(run(cmd_train("base.csv", ["--model", "logistic", "--value-model", "clv",
                                                   "--contacts", path, "--uplift-model-dir",
                                                   "models/new-uplift"]), exit, needles))
        return runs

    def contact_case(name, about, rows, exit, needles, header=chdr, data=None,
                     file="contacts.csv"):
        data = data if data is not None else csv_bytes(rows, header=header)
        c.case("contacts", name, about, contact_runs(file, exit, needles),
               files={file: data}, shared=["base.csv"])

    def cset(rows, row, col, value):
        rows = [list(r) for r in rows]
        rows[row - 1][CCOL[col]] = value
        return rows

    K = "contacts.csv"
    contact_case("valid", "the sample's contacts of the base's clients", contacts, 0, [])
    contact_case("unknown-channel", "a channel no team has (`pigeon`): channels are free labels",
                 cset(contacts, 5, "channel", "pigeon"), 0, [])
    contact_case("empty-channel", "an empty channel at row 7",
                 cset(mini_contacts, 7, "channel", ""), 1, [K, "row 7", "`channel`"])
    contact_case("bad-timestamp", "timestamp 2023-13-45T09:00:00Z at row 7",
                 cset(mini_contacts, 7, "timestamp", "2023-13-45T09:00:00Z"), 1,
                 [K, "row 7", "`timestamp`", "2023-13-45T09:00:00Z"])
    contact_case("bad-offset", "timestamp with offset +25:00 at row 7",
                 cset(mini_contacts, 7, "timestamp", "2023-03-01T09:00:00+25:00"), 1,
                 [K, "row 7", "`timestamp`", "+25:00"])
    contact_case("timestamp-2099", "a contact dated 2099 at row 7",
                 cset(mini_contacts, 7, "timestamp", "2099-03-01T09:00:00Z"), 1,
                 [K, "row 7", "2099-03-01"])
    contact_case("timestamp-empty", "an empty timestamp at row 7",
                 cset(mini_contacts, 7, "timestamp", ""), 1, [K, "row 7", "`timestamp`"])
    contact_case("unknown-outcome", "outcome `maybe` at row 7",
                 cset(mini_contacts, 7, "outcome", "maybe"), 1, [K, "row 7", "`outcome`", "maybe"])
    contact_case("unknown-group", "group `placebo` at row 7",
                 cset(mini_contacts, 7, "group", "placebo"), 1, [K, "row 7", "`group`", "placebo"])
    contact_case("cost-text", "cost `free` at row 7", cset(mini_contacts, 7, "cost", "free"), 1,
                 [K, "row 7", "`cost`", "free"])
    contact_case("cost-nan", "cost NaN at row 7", cset(mini_contacts, 7, "cost", "NaN"), 1,
                 [K, "row 7", "`cost`"])
    contact_case("client-id-text-among-numbers", "a client id `C-1` among numeric ids: a string "
                 "id matching no client of the transactions",
                 cset(contacts, 7, "client_id", "C-1"), 0, [])
    for col in ("channel", "timestamp", "client_id"):
        hdr = [h for h in chdr if h != col]
        rows = [[v for h, v in zip(chdr, r) if h != col] for r in mini_contacts]
        contact_case(f"missing-column-{col}", f"no `{col}` column", rows, 1,
                     [K, f"missing column `{col}`"], header=hdr)
    contact_case("empty-file", "a 0-byte contacts log", [], 1, [K, "empty"], data=b"")
    contact_case("header-only", "a contacts log with a header only", [], 1, [K, "empty"])
    data = csv_bytes(mini_contacts, header=chdr).replace(
        ("," + mini_contacts[6][2] + ",").encode(), b",ph\xf6ne,", 1)
    contact_case("invalid-utf8", "a Latin-1 byte in a channel", [], 1, [K, "UTF-8"], data=data)
    cz = gz(csv_bytes(contacts, header=chdr))
    contact_case("gzip-truncated", "contacts.csv.gz cut in the middle", [], 1,
                 ["contacts.csv.gz"], data=cz[: len(cz) // 2], file="contacts.csv.gz")
    contact_case("no-client-in-transactions", "a contacts log of other clients only "
                 "(ids that match no transaction)",
                 [[str(int(r[0]) + 900000)] + r[1:] for r in contacts], 1, [K])
    contact_case("duplicate-rows", "every contact twice (an export run twice)",
                 [r for r in contacts for _ in (0, 1)], 0, [])

    # ---------------------------------------------------------------- clients
    with open(SAMPLE / "clients.csv", newline="") as f:
        clients = list(csv.reader(f))
    khdr, clients = clients[0], [r for r in clients[1:] if r[0] in set(BASE_IDS)]
    KCOL = {n: i for i, n in enumerate(khdr)}

    def clients_runs(path, exit, needles):
        return [run(cmd_plan("base.csv", ["--clients", path]), exit, needles),
                run(cmd_score("base.csv", ["--plan", "--clients", path]), exit, needles),
                run(cmd_kpis("base.csv", ["--clients", path]), exit, needles)]

    def clients_case(name, about, rows, exit, needles, header=khdr, data=None):
        data = data if data is not None else csv_bytes(rows, header=header)
        c.case("clients", name, about, clients_runs("clients.csv", exit, needles),
               files={"clients.csv": data}, shared=["base.csv"])

    def kset(row, col, value, rows=None):
        rows = [list(r) for r in (rows or clients)]
        rows[row - 1][KCOL[col]] = value
        return rows

    Q = "clients.csv"
    clients_case("valid", "the sample's attributes of the base's clients", clients, 0, [])
    dup = [list(r) for r in clients]
    dup.insert(20, list(clients[4]))
    clients_case("duplicate-client", f"client {clients[4][0]} on rows 5 and 21", dup, 1,
                 [Q, "row 21", clients[4][0], "row 5"])
    clients_case("consent-maybe", "consent_email `maybe` at row 9",
                 kset(9, "consent_email", "maybe"), 1, [Q, "row 9", "`consent_email`", "maybe"])
    spell = [list(r) for r in clients]
    for i, r in enumerate(spell):
        r[KCOL["consent_email"]] = ["Yes", "no", "TRUE", "false", "1", "0", "Y", "N"][i % 8]
    clients_case("consent-common-spellings", "consent as Yes/no/TRUE/false/1/0/Y/N", spell, 0, [])
    clients_case("do-not-contact-perhaps", "do_not_contact `perhaps` at row 9",
                 kset(9, "do_not_contact", "perhaps"), 1,
                 [Q, "row 9", "`do_not_contact`", "perhaps"])
    clients_case("timezone-unknown", "timezone `Mars/Olympus_Mons` at row 9",
                 kset(9, "timezone", "Mars/Olympus_Mons"), 1,
                 [Q, "row 9", "`timezone`", "Mars/Olympus_Mons"])
    clients_case("timezone-offset-out-of-range", "timezone `+25:00` at row 9",
                 kset(9, "timezone", "+25:00"), 1, [Q, "row 9", "`timezone`", "+25:00"])
    clients_case("timezone-iana-valid", "timezone Europe/Berlin and Asia/Kolkata: valid",
                 kset(10, "timezone", "Asia/Kolkata", kset(9, "timezone", "Europe/Berlin")), 0, [])
    for v in ("1.5", "-0.2", "abc", "NaN"):
        clients_case(f"margin-{v.lower().replace('.', '_')}", f"margin `{v}` at row 9",
                     kset(9, "margin", v), 1, [Q, "row 9", "`margin`", v])
    for v in ("11", "-1", "7.5", "ten"):
        clients_case(f"nps-{v.lower().replace('.', '_')}", f"nps `{v}` at row 9",
                     kset(9, "nps", v), 1, [Q, "row 9", "`nps`", v])
    chdr2 = khdr + ["csat"]
    for v in ("0", "6"):
        rows = [r + [("4" if i % 3 else "")] for i, r in enumerate(clients)]
        rows[8][-1] = v
        clients_case(f"csat-{v}", f"csat `{v}` at row 9 (1-5)", rows, 1,
                     [Q, "row 9", "`csat`", v], header=chdr2)
    hdr = [h for h in khdr if h != "client_id"]
    clients_case("missing-client-id-column", "no `client_id` column",
                 [[v for h, v in zip(khdr, r) if h != "client_id"] for r in clients], 1,
                 [Q, "missing column `client_id`"], header=hdr)
    clients_case("empty-file", "a 0-byte clients file", [], 1, [Q, "empty"], data=b"")
    data = csv_bytes(clients, header=khdr).replace(b",retail,", b",r\xe9tail,", 1)
    clients_case("invalid-utf8", "a Latin-1 byte in a segment", [], 1, [Q, "UTF-8"], data=data)
    clients_case("no-client-in-transactions", "attributes of other clients only",
                 [[str(int(r[0]) + 900000)] + r[1:] for r in clients], 1, [Q])
    clients_case("empty-client-id", "an empty client_id at row 9", kset(9, "client_id", ""), 1,
                 [Q, "row 9", "`client_id`"])

    # ---------------------------------------------------------------- string ids end to end
    sid = {i: f"C-{int(i) - 12000:05d}" for i in BASE_IDS}
    tx = [r[:6] + [sid[r[6]]] + r[7:] for r in BASE]
    ks = [[sid[r[0]]] + r[1:] for r in clients]
    ct = [[sid[r[0]]] + r[1:] for r in contacts]
    shown = [sid[BASE_IDS[0]], sid[BASE_IDS[1]]]
    c.case("ids", "string-ids-with-contacts-and-clients",
           "string ids in the transactions, the contacts log and the client attributes: the "
           "plan joins them exactly",
           [run(cmd_plan("sales.csv", ["--contacts", "contacts.csv", "--clients", "clients.csv",
                                       "--json-lines"]), 0,
                contains={"out/plan.csv": shown, "out/plan.jsonl": shown}),
            run(cmd_train("sales.csv", ["--contacts", "contacts.csv"]), 0),
            run(cmd_kpis("sales.csv", ["--clients", "clients.csv"]), 0)],
           files={"sales.csv": csv_bytes(tx), "clients.csv": csv_bytes(ks, header=khdr),
                  "contacts.csv": csv_bytes(ct, header=chdr)})

    shared = {
        "base.csv": base,
        "contacts.csv": csv_bytes(contacts, header=chdr),
        "clients.csv": csv_bytes(clients, header=khdr),
        "other.csv": csv_bytes(OTHER),
    }
    return c, shared


def with_all(rows, column, value):
    rows = [list(r) for r in rows]
    for r in rows:
        r[COL[column]] = value
    return rows


FIXTURES = [
    {"name": "models", "about": "a logistic churn model and a BG/NBD + Gamma-Gamma value "
     "model trained on the base", "shared": ["base.csv"],
     "runs": [["train", "-i", "base.csv", "--model", "logistic", "--value-model", "clv",
               "-q"]]},
    {"name": "models-pareto", "about": "the same with --rfm-model pareto",
     "shared": ["base.csv"],
     "runs": [["train", "-i", "base.csv", "--model", "logistic", "--value-model", "clv",
               "--rfm-model", "pareto", "-q"]]},
    {"name": "models-other", "about": "trained on other clients' data", "shared": ["other.csv"],
     "runs": [["train", "-i", "other.csv", "--model", "logistic", "--value-model", "clv",
               "-q"]]},
    {"name": "models-other-pareto", "about": "trained on other clients' data, Pareto/NBD",
     "shared": ["other.csv"],
     "runs": [["train", "-i", "other.csv", "--model", "logistic", "--value-model", "clv",
               "--rfm-model", "pareto", "-q"]]},
    {"name": "models-earlier", "about": "trained on the base at an earlier cutoff",
     "shared": ["base.csv"],
     "runs": [["train", "-i", "base.csv", "--model", "logistic", "--value-model", "clv",
               "--cutoff", day_offset(BASE_LAST_DAY, -120), "-q"]]},
    {"name": "demo", "about": "the demo's outputs on the base (the report's inputs)",
     "shared": ["base.csv"], "runs": [["demo", "-i", "base.csv", "-q"]]},
]


def manifest_text(m):
    """The manifest with one line per fixture and per run: readable, diffable, small."""
    dump = lambda v: json.dumps(v, ensure_ascii=False)
    out = ["{"]
    out.append(f' "about": {dump(m["about"])},')
    out.append(f' "shared_dir": {dump(m["shared_dir"])},')
    out.append(' "fixtures": [')
    out.append(",\n".join(f"  {dump(f)}" for f in m["fixtures"]))
    out.append(" ],")
    out.append(' "cases": [')
    cases = []
    for c in m["cases"]:
        head = ", ".join(f"{dump(k)}: {dump(v)}" for k, v in c.items() if k != "runs")
        runs = ",\n".join(f"    {dump(r)}" for r in c["runs"])
        cases.append(f"  {{{head},\n   \"runs\": [\n{runs}]}}")
    out.append(",\n".join(cases))
    out.append(" ]")
    out.append("}")
    text = "\n".join(out) + "\n"
    assert json.loads(text) == m
    return text


def main():
    corpus, shared = build()
    for sub in ("cases", "shared"):
        shutil.rmtree(OUT / sub, ignore_errors=True)
    for rel, data in corpus.files.items():
        p = OUT / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    for name, data in shared.items():
        p = OUT / "shared" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    manifest = {
        "about": "The bad-input corpus of issue 15, written by scripts/make_bad_inputs.py; "
                 "run by tests/cli/corpus.rs. See README.md beside this file.",
        "shared_dir": "shared",
        "fixtures": FIXTURES,
        "cases": corpus.cases,
    }
    (OUT / "cases.json").write_text(manifest_text(manifest), encoding="utf-8")
    counts = {}
    for c in corpus.cases:
        counts[c["class"]] = counts.get(c["class"], 0) + 1
    runs = sum(len(c["runs"]) for c in corpus.cases)
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(corpus.cases)} cases, {runs} runs, {size / 1e6:.2f} MB in {OUT.relative_to(ROOT)}")
    for k in sorted(counts):
        print(f"  {k:20} {counts[k]}")


if __name__ == "__main__":
    main()
