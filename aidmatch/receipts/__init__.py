"""Proof of delivery at the drop point: a match's printable delivery slip with its QR code,
and the single-use receipt link that lets whoever holds the goods sign for them."""
