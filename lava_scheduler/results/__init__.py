"""Results of jobs: suites and test cases, built from the dispatcher's results records."""
