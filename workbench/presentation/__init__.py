"""What people see: Altair charts, dashboard widgets, report tables, number formats, the
sentences of the reports and CSV export.

Charts take a frame and return a chart; widgets wrap them and hold no analysis logic
(docs/architecture.md).
"""
