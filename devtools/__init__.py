"""What both the test suite and the benchmarks use: serving the dashboard, and generated files and
stores (hostile uploads, a national-scale store, a month's upload). Never imported by the product."""
