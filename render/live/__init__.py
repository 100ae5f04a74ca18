"""Live: a render streamed while it runs (stream: the HLS/RTMP encode, server: the page and its files, page: what
a screen opens, output: the live output the driver writes shown frames to)."""
