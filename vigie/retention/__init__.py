"""Retention and legal holds: footage is kept no longer than the law allows.

Each camera keeps its tracks for a retention period (site file:
`retention_days`, per camera or for the site, never above
`legal_max_retention_days`). `vigie purge` (purge.py) deletes what is older, in
one transaction, except tracks under a legal hold placed by an investigator for
a case (holds.py): by track id, or by camera and time window for an incident
whose tracks nobody has found yet. vigie/cli/retention.py adds
`vigie purge` and `vigie hold place|lift|list`.
"""
