from convlens.cli import main

raise SystemExit(main())
