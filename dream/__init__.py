"""DeepDream engine: models, objectives, the ascent step, octaves and tiling.

Everything here is about one image and one network; time (frames, schedules,
video) belongs to ``render``, which this package never imports.
"""
