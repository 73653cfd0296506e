"""Cases (issue 20): the case an investigator opens once per session, the marks put on tracks for a
case, what the audit log says was done for a case, and the evidence sheet of a case's export."""
