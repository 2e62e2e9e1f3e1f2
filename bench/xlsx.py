"""XLSX export size: lms.tabular.write_xlsx() against a plain openpyxl workbook, same run.

    .venv/bin/python bench/xlsx.py [--rows 100000] [--repeat 3]

Each variant writes the same ROWS rows × 12 columns (ints, decimals, text, dates and times,
streamed from a generator) into an .xlsx in memory, in a fresh Python process of its own, so
that its peak memory (getrusage maxrss) is its own:
- baseline: openpyxl's normal mode, as plainly as possible: Workbook(), append every row, save;
- write_xlsx: the site's export function (write-only mode, bold filled frozen header, widths,
  number formats on six columns), as every export calls it;
- rows only: the same imports and the same rows generated and thrown away, no workbook: the
  floor under both memory figures.
The variants run in turn, REPEAT times each; the figures are medians (wall and CPU seconds of
building the file, peak RSS of the process), and the ones to read are the ratios to the baseline
(this machine is noisy; CPU seconds suffer less from other load than wall seconds).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEADERS = ["序号", "用户名", "姓名", "所属社区", "出生日期", "报名课程", "完成课程", "学时", "出勤率", "平均分",
           "最近签到", "备注"]
WIDTHS = [8, 12, 10, 16, 12, 10, 10, 8, 8, 8, 18, 30]
FORMATS = {1: "#,##0", 6: "#,##0", 7: "#,##0", 8: "0.0", 9: "0.0%", 10: "0.0"}
COMMUNITIES = [f"{d}区{s}街道{c}社区" for d in "东西南北" for s in "一二三" for c in "甲乙丙丁"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


def rows(n: int):
    """Deterministic rows of a city-wide worker export."""
    born = date(1970, 1, 1)
    start = datetime(2026, 1, 5, 9, 0)
    for i in range(n):
        yield [i + 1, f"w{i + 1:06d}", SURNAMES[i % 20] + "晓" + "明红华"[i % 3], COMMUNITIES[i % len(COMMUNITIES)],
               born + timedelta(days=(i * 37) % 12000), i % 13, i % 7, Decimal(i % 400) / 10, (i % 101) / 100,
               Decimal(600 + i % 400) / 10, start + timedelta(minutes=i * 7),
               "继续教育学时已达标" if i % 4 else ""]


def child(variant: str, n: int) -> None:
    import io
    import os

    if variant == "write_xlsx_etree":  # openpyxl without lxml even where it is installed
        os.environ["OPENPYXL_LXML"] = "False"

    from openpyxl import Workbook

    from lms.tabular import write_xlsx

    t0, c0 = time.perf_counter(), time.process_time()
    if variant == "baseline":
        wb = Workbook()
        ws = wb.active
        ws.append(HEADERS)
        for row in rows(n):
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        size = len(buf.getvalue())
    elif variant in ("write_xlsx", "write_xlsx_etree"):
        size = len(write_xlsx("工作者", HEADERS, rows(n), widths=WIDTHS, number_formats=FORMATS))
    else:
        size = sum(1 for _row in rows(n))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "cpu": cpu, "maxrss_mib": maxrss_kib / 1024, "size": size}))


def run(variant: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", variant, "--rows", str(n)], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["baseline", "write_xlsx", "write_xlsx_etree", "rows"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        child(args.child, args.rows)
        return

    from openpyxl.xml import LXML

    variants = {"baseline": "openpyxl normal mode, plain (baseline)", "write_xlsx": "write_xlsx (write-only, styled)",
                "rows": "rows only, no workbook (floor)"}
    if LXML:  # lxml is installed (a dependency): how much it gives, same run
        variants["write_xlsx_etree"] = "write_xlsx without lxml (xml.etree)"
    start_load = os.getloadavg()
    results = {v: [] for v in variants}
    for _ in range(args.repeat):
        for v in variants:
            results[v].append(run(v, args.rows))

    def med(v, key):
        return statistics.median(r[key] for r in results[v])

    base_s, base_cpu = med("baseline", "seconds"), med("baseline", "cpu")
    base_mem, floor = med("baseline", "maxrss_mib"), med("rows", "maxrss_mib")
    print(f"load average at the start {start_load}, at the end {os.getloadavg()}")
    print(f"{args.rows:,} rows x {len(HEADERS)} columns (ints, decimals, text, dates); one process per run; "
          f"{args.repeat} runs per variant; medians")
    print(
        f"{'variant':<40}{'seconds':>9}{'ratio':>7}{'CPU s':>8}{'ratio':>7}"
        f"{'max RSS MiB':>13}{'ratio':>7}{'above floor':>13}{'ratio':>7}"
        f"{'file MiB':>10}"
    )
    for v, label in variants.items():
        s, cpu, mem = med(v, "seconds"), med(v, "cpu"), med(v, "maxrss_mib")
        size = med(v, "size") / 2**20 if v != "rows" else 0
        above = mem - floor
        print(
            f"{label:<40}{s:>9.2f}{s / base_s:>7.2f}{cpu:>8.2f}{cpu / base_cpu:>7.2f}"
            f"{mem:>13.1f}{mem / base_mem:>7.2f}{above:>13.1f}"
            f"{above / (base_mem - floor):>7.2f}{size:>10.1f}"
        )


if __name__ == "__main__":
    main()
