"""Whose X-Forwarded-For is believed, and how far a client's address is cut."""

from __future__ import annotations

from ipaddress import ip_network

from shared.network import LOOPBACK, client_network, coarse_place

GATEWAY = "127.0.0.1"


def test_from_an_untrusted_peer_a_forged_forwarded_for_is_ignored() -> None:
    assert client_network("198.51.100.7", "203.0.113.77", LOOPBACK) == ip_network("198.51.100.0/24")


def test_from_a_trusted_proxy_the_forwarded_address_counts() -> None:
    assert client_network(GATEWAY, "203.0.113.77", LOOPBACK) == ip_network("203.0.113.0/24")


def test_the_right_most_untrusted_hop_is_the_client() -> None:
    proxies = (*LOOPBACK, ip_network("10.0.0.0/8"))
    chain = "192.0.2.1, 203.0.113.77, 10.1.2.3"  # a forged first hop, the client, a balancer
    assert client_network(GATEWAY, chain, proxies) == ip_network("203.0.113.0/24")
    assert client_network(GATEWAY, "not an ip, 10.1.2.3", proxies) == ip_network("10.1.2.0/24")


def test_without_a_forwarded_header_the_peer_counts() -> None:
    assert client_network(GATEWAY, None, LOOPBACK) == ip_network("127.0.0.0/24")
    assert client_network(GATEWAY, "", ()) == ip_network("127.0.0.0/24")


def test_networks_are_cut_to_24_and_48() -> None:
    assert client_network("::ffff:203.0.113.77", None) == ip_network("203.0.113.0/24")
    assert client_network("2001:db8:abcd:12::1", None) == ip_network("2001:db8:abcd::/48")
    assert client_network("not an ip", None) is None and client_network(None, None) is None


def test_coarse_places_are_names_never_addresses() -> None:
    assert coarse_place("  Алматы  ") == "Алматы" and coarse_place(None) == ""
    assert coarse_place("Усть-Каменогорск") == "Усть-Каменогорск"
    assert coarse_place("ул. Абая 10, кв 5") == "" and coarse_place("x" * 65) == ""
