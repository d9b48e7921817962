"""What leaves jerklog for people and other software: the CSV diary and summary
(diary_csv), EDF+ annotations (edf) and the doctor's report in PDF or HTML (report)."""
