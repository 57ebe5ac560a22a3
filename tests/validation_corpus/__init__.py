"""Strategy modules for the validation gate's tests: known lookahead (static and dynamic) and clean."""
