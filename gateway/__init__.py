"""The gateway: pitlane's one public HTTP API."""
