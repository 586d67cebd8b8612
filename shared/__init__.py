"""Code every pitlane service uses: configuration, database, events, SLA clocks, errors."""
