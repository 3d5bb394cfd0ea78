"""A human judge's labels for "goes well with" on the demo shop, independent of the demo's category map.

Written by hand from the leaf category names alone (not derived from dragonrec/catalog/demo/complements.json, which
generates the demo's sessions and which a merchant may enter in admin), so a plausibility figure judged with these
labels does not measure the map against itself. The question asked for every anchor: "would a shopper who is buying
(or owns) one of these accept an item of that category in a 'Goes well with' list?" Accepted: what connects to it,
is used with it, is consumed by it, or belongs to the same desk / kitchen counter / workout; not accepted: a second
one of the same kind, or an item from another activity. Where the judge hesitated the reason is noted.

    >>> plausible("Electronics > Displays > Monitors", "Electronics > Computer Accessories > Mice")
    True
"""

from __future__ import annotations

# anchor leaf -> accessory leaves a judge accepts
ACCEPTED: dict[str, frozenset[str]] = {
    "Monitors": frozenset(
        {
            "Keyboards",
            "Mice",
            "Cables & Adapters",  # a display cable
            "Monitor Arms & Stands",
            "USB Hubs & Docks",
            "Webcams",  # clipped onto the monitor
            "Desk Lamps",  # same desk
            "Headphones",  # a monitor has no (good) speakers
            "Desks",  # the desk it stands on: a setup purchase
        }
    ),
    "Laptops": frozenset(
        {
            "Laptop Bags & Sleeves",
            "Mice",
            "Keyboards",
            "USB Hubs & Docks",
            "Cables & Adapters",
            "Monitors",  # a second screen
            "Monitor Arms & Stands",  # laptop stands
            "Headphones",
            "Webcams",
            "SSDs & Flash Drives",
        }
    ),
    "Keyboards": frozenset({"Mice", "Monitors", "Laptops", "USB Hubs & Docks", "Monitor Arms & Stands", "Desks"}),
    "Mice": frozenset({"Keyboards", "Monitors", "Laptops", "USB Hubs & Docks", "Laptop Bags & Sleeves"}),
    "Cables & Adapters": frozenset(
        {"Monitors", "Laptops", "USB Hubs & Docks", "Phone Chargers", "SSDs & Flash Drives", "Monitor Arms & Stands"}
    ),
    "Monitor Arms & Stands": frozenset({"Monitors", "Cables & Adapters", "Desks", "Laptops", "Desk Lamps"}),
    "Laptop Bags & Sleeves": frozenset({"Laptops", "Mice", "Phone Chargers", "Headphones", "SSDs & Flash Drives"}),
    "Headphones": frozenset({"Phone Chargers", "Phone Cases", "Laptops", "Cables & Adapters", "Running Shoes"}),
    "Webcams": frozenset({"Monitors", "Laptops", "Headphones", "Desk Lamps", "USB Hubs & Docks"}),
    "USB Hubs & Docks": frozenset(
        {"Laptops", "Monitors", "Cables & Adapters", "Keyboards", "Mice", "SSDs & Flash Drives"}
    ),
    "Phone Cases": frozenset({"Phone Chargers", "Headphones", "Cables & Adapters"}),
    "Phone Chargers": frozenset({"Phone Cases", "Cables & Adapters", "Headphones"}),
    "SSDs & Flash Drives": frozenset({"Laptops", "USB Hubs & Docks", "Cables & Adapters"}),
    "Coffee Makers": frozenset({"Coffee Beans", "Mugs"}),
    "Coffee Beans": frozenset({"Coffee Makers", "Mugs"}),
    "Mugs": frozenset({"Coffee Beans", "Coffee Makers"}),
    "Cookware": frozenset(),  # nothing in this shop goes with a pan (no utensils, no kitchen textiles)
    "Running Shoes": frozenset({"Running Apparel", "Water Bottles", "Fitness Trackers", "Headphones"}),
    "Running Apparel": frozenset({"Running Shoes", "Water Bottles", "Fitness Trackers", "Headphones"}),
    "Water Bottles": frozenset({"Running Shoes", "Running Apparel", "Yoga Mats", "Fitness Trackers"}),
    "Fitness Trackers": frozenset({"Running Shoes", "Running Apparel", "Water Bottles", "Phone Chargers"}),
    "Yoga Mats": frozenset({"Water Bottles", "Running Apparel", "Fitness Trackers"}),  # the judge's "sportswear"
    "Desks": frozenset(
        {
            "Desk Chairs",
            "Desk Lamps",
            "Monitor Arms & Stands",
            "Monitors",
            "Notebooks & Paper",
            "Keyboards",  # what goes on the desk
            "Mice",
        }
    ),
    "Desk Chairs": frozenset({"Desks", "Desk Lamps"}),
    "Desk Lamps": frozenset({"Desks", "Desk Chairs", "Notebooks & Paper", "Monitors"}),
    "Notebooks & Paper": frozenset({"Desks", "Desk Lamps"}),
}


def leaf(path: str) -> str:
    return path.rsplit(" > ", 1)[-1]


def plausible(anchor_path: str, item_path: str) -> bool:
    """Whether the judge accepts an item of `item_path` in the "Goes well with" list of an `anchor_path` product
    (full category paths; an anchor the judge has not labelled accepts nothing)."""
    return leaf(item_path) in ACCEPTED.get(leaf(anchor_path), frozenset())
