"""The orders service's DR design: a DynamoDB global table behind a Route 53 failover pair."""
