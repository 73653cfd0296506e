"""Video synopsis (Pritch, Rav-Acha and Peleg, PAMI 2008): hours of footage watched in minutes."""
