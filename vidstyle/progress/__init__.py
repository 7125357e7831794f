"""What a run tells the user: rich progress bars with ETA on stderr (silent with --quiet) for images
(``bars``), video frames (``frame_bar``) and distributed chunks (``chunk_bar``), and what a video run's report
holds (``video_report``). A foundation: it imports no other room, so every pipeline can report to it.

JSON report files are written by vidstyle/io/report_files.py; a live session's figures are vidstyle/live/summary.py.
"""
