"""``python -m render.join SWEEP_DIR``: join a segmented video dream (render/segments/join.py)."""

from render.segments.join import main

if __name__ == "__main__":
    main()
