"""Conversations: the two sides of a match and the coordinators write to each other on the
match's page; an organizer writes to a donor about an offer she may request, before any match
exists. Messages pass between organizations on aidmatch: the system never puts a contact or a
point into them, and nothing is revealed before a match is confirmed."""
