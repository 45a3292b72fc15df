"""What people and scripts read: text and tables (text.py), JSON (json.py), Markdown reports (report.py)."""
