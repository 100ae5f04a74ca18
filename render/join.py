"""``python -m render.join SWEEP_DIR``: join a segmented video dream (render/tools/join.py)."""

from render.tools.join import main

if __name__ == "__main__":
    main()
