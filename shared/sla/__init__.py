"""The SLA engine: policies and clock rules, the clocks every service keeps, their SQL."""
