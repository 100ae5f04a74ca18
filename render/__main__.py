from render.cli import main

main()
