"""Catalog service: categories, products, prices, stock, reservations and visit statistics."""
