"""Tables of the report: one model (:class:`ReportTable`), rendered as HTML, CSV and RTF."""
