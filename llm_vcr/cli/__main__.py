from llm_vcr.cli.main import main

main()
