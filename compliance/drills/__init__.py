"""Deploy-phase failover drills: fail a region, measure RTO and RPO.

The ``local`` target builds a two-region lab from real engines on loopback
addresses (PostgreSQL for Aurora, PowerDNS for Route 53, the project's own
Lambda handlers behind an HTTP adapter); the ``aws`` target deploys the
synthesized stacks and drives the same scenarios with boto3. Every drill
writes one record to ``reports/drills.json`` (``drill.schema.json``).
"""
