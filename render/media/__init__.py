"""Media I/O: the ffmpeg sink, image and video sources, the run folder, web formats, console progress."""
