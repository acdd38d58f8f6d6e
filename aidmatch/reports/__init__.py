"""Reports that donors and funders read: a donor organization's and the whole network's, as a
page made for printing and as a PDF (views.py), from report.py's figures."""
