"""Reports: terminal tables and a static HTML page with one figure per phenomenon."""

from gdlab.report.html import write_report as write_report
from gdlab.report.load import Entry as Entry
from gdlab.report.load import load_entries as load_entries
from gdlab.report.terminal import verdict_detail as verdict_detail
from gdlab.report.terminal import verdict_table as verdict_table

__all__ = ["Entry", "load_entries", "verdict_detail", "verdict_table", "write_report"]
