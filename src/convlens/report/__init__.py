"""The report: one HTML and PDF with every number, figure and discussion of the exam."""

from convlens.report.build import ReportContext, build_report

__all__ = ["ReportContext", "build_report"]
