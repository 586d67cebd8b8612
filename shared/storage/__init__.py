"""Storage: PostgreSQL connections, units of work, migrations, paging, the Database dependency."""
