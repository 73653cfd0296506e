"""The web side of Vigie: a JSON API (`vigie serve`) over the store, every
endpoint role-checked and audited, and the public camera register."""
