"""Campaigns (推广活动) and their cost; the company's lead conversion settings (HTTP)."""
