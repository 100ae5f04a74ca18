"""Segmented video dreams: one long video dream split over many jobs, then joined into one video.

A segmented render is a Hydra sweep of the ``video_dream`` preset with ``segment.count=N`` and
``segment.index=range(N)``: each job dreams its share of the source's frames into its own run folder,
starting a warm-up earlier so the flow-carried dream has settled (``plan``), and keeps its seam frames
losslessly. When the sweep ends, ``callback.SegmentJoin`` joins the finished segments into
``SWEEP_DIR/<output.name>.mp4`` (``join``), dissolving each seam; ``python -m render.join SWEEP_DIR``
does the same by hand.
"""
