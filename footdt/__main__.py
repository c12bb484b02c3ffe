from footdt.cli.app import main

main()
