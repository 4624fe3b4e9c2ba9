"""The demo's code beside its page (app.py): the service behind it and the hint panel."""
