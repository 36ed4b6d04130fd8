from spacetime.cli.main import main

main()
