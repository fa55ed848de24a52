"""The people and companies who buy: one pool of persons shared by every channel, so the
same person shows up on several channels (with the phone formatted the channel's way) and
can be identity-resolved; plus the B2B accounts of the manual (phone/e-mail) orders.

Persons are kept as compact parallel arrays and their strings are built on demand, so the
pool stays small even at benchmark scale.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass

from . import calendar as cal
from . import catalog

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏宇浩凯欣怡晨雪婷雨佳琳子轩梓涵思远博文嘉懿俊峰晓东海燕丹彤瑶"  # noqa: E501
_PREFIXES = (
    "138",
    "139",
    "135",
    "136",
    "137",
    "150",
    "151",
    "152",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
    "177",
    "199",
    "166",
    "176",
)
_MAIL = ("qq.com", "163.com", "126.com", "foxmail.com", "gmail.com", "outlook.com", "sina.com")
CHANNEL_BITS = {c: 1 << i for i, c in enumerate(catalog.CHANNELS)}


def phone_digits(i: int) -> str:
    """The 11-digit mobile number of person ``i`` (unique per person)."""
    return _PREFIXES[i % len(_PREFIXES)] + f"{(i * 48271 + 1234567) % 100_000_000:08d}"


def format_phone(digits: str, style: str) -> str:
    """The same number as each system writes it."""
    a, b, c = digits[:3], digits[3:7], digits[7:]
    if style == "tmall":
        return digits
    if style == "jd":
        return f"{a} {b} {c}"
    if style == "douyin":
        return f"86-{digits}"
    if style == "shopify":
        return f"+86{digits}"
    if style == "pos":
        return f"{a}-{b}-{c}"
    if style == "crm":
        return f"+86 {a}-{b}-{c}"
    if style == "manual":
        return f"0086 {digits}"
    raise ValueError(style)


class People:
    """The person pool. Each person has a province, a city, a set of channels they buy on
    (1–3), maybe an e-mail, and maybe a CRM membership."""

    def __init__(self, scale: int, seed: int):
        rng = random.Random(f"{seed}:people")
        n = max(200, int(scale * 0.42))
        self.n = n
        self.province = array("B")
        self.city = array("B")
        self.channels = array("B")
        self.name_a = array("H")
        self.name_b = array("H")
        self.name_c = array("h")
        self.flags = array("B")  # bit0 e-mail, bit1 CRM member
        self.registered = array("H")  # day index of first contact
        codes = list(catalog.CHANNELS)
        # primary channel by order share (manual is for companies, not consumers)
        cum = cal.cumulative([catalog.CHANNELS[c].share if c != "manual" else 0 for c in codes])
        for _ in range(n):
            p = catalog.pick_province(rng)
            self.province.append(p)
            self.city.append(rng.randrange(len(catalog.PROVINCES[p].cities)))
            first = _pick(cum, rng)
            mask = CHANNEL_BITS[codes[first]]
            if rng.random() < 0.38:
                mask |= CHANNEL_BITS[codes[_pick(cum, rng)]]
                if rng.random() < 0.3:
                    mask |= CHANNEL_BITS[codes[_pick(cum, rng)]]
            self.channels.append(mask)
            self.name_a.append(rng.randrange(len(SURNAMES)))
            self.name_b.append(rng.randrange(len(GIVEN)))
            self.name_c.append(rng.randrange(len(GIVEN)) if rng.random() < 0.7 else -1)
            self.flags.append((1 if rng.random() < 0.55 else 0) | (2 if rng.random() < 0.4 else 0))
            self.registered.append(int(rng.random() ** 0.8 * (cal.DAYS - 1)))
        # persons per channel, and per (channel, province) for the stores
        self.by_channel: dict[str, list[int]] = {c: [] for c in codes}
        for i in range(n):
            m = self.channels[i]
            for c in codes:
                if m & CHANNEL_BITS[c]:
                    self.by_channel[c].append(i)
        self.pos_by_province: dict[int, list[int]] = {}
        for i in self.by_channel["pos"]:
            self.pos_by_province.setdefault(self.province[i], []).append(i)
        # who really ordered, on which channels (filled while orders are generated)
        self.seen = bytearray(n)

    def pick(self, rng: random.Random, channel: str) -> int:
        """A buyer for an order on ``channel``; low indexes are the loyal repeat buyers."""
        pool = self.by_channel[channel] or self.by_channel["tmall"]
        i = pool[int(len(pool) * rng.random() ** 2.2)]
        self.seen[i] |= CHANNEL_BITS[channel]
        return i

    def pick_local(self, rng: random.Random, province: str) -> int | None:
        pool = self.pos_by_province.get(catalog.PROVINCE_INDEX[province])
        if not pool:
            return None
        i = pool[int(len(pool) * rng.random() ** 1.8)]
        self.seen[i] |= CHANNEL_BITS["pos"]
        return i

    def name(self, i: int) -> str:
        c = self.name_c[i]
        return SURNAMES[self.name_a[i]] + GIVEN[self.name_b[i]] + (GIVEN[c] if c >= 0 else "")

    def phone(self, i: int) -> str:
        return phone_digits(i)

    def email(self, i: int) -> str | None:
        if not self.flags[i] & 1:
            return None
        return f"{(i * 7919 + 100003) % 90_000_000 + 10_000_000}@{_MAIL[i % len(_MAIL)]}"

    def province_of(self, i: int) -> catalog.Province:
        return catalog.PROVINCES[self.province[i]]

    def city_of(self, i: int) -> str:
        return catalog.PROVINCES[self.province[i]].cities[self.city[i]]

    def is_member(self, i: int) -> bool:
        return bool(self.flags[i] & 2)

    def identity_stats(self) -> dict:
        buyers = sum(1 for m in self.seen if m)
        multi = sum(1 for m in self.seen if m and m & (m - 1))
        return {
            "persons_in_pool": self.n,
            "persons_with_orders": buyers,
            "persons_on_several_channels": multi,
        }


def _pick(cum: list[float], rng: random.Random) -> int:
    from bisect import bisect_right

    return bisect_right(cum, rng.random() * cum[-1])


# ---------------------------------------------------------------- B2B accounts

_COMPANY_CITY = ("上海", "杭州", "苏州", "广州", "深圳", "南京", "成都", "武汉", "宁波", "厦门")
_COMPANY_CORE = (
    "惠民",
    "嘉禾",
    "鑫源",
    "华润",
    "百盛",
    "锦程",
    "优选",
    "佳和",
    "万家",
    "汇通",
    "瑞丰",
    "金桥",
    "盛世",
    "信达",
    "博雅",
    "安居",
    "乐购",
    "恒信",
    "德盛",
    "永辉",
)
_COMPANY_KIND = (
    "商贸有限公司",
    "酒店管理有限公司",
    "物业服务有限公司",
    "超市连锁有限公司",
    "企业管理咨询有限公司",
    "礼品有限公司",
    "科技有限公司",
)


@dataclass
class Account:
    code: str
    name: str
    province: str
    city: str
    contact: int  # person index of the buyer's contact
    terms_days: int
    pay_delay: tuple[int, int]  # days paid after the due date (min, max)
    late_payer: bool
    created_day: int
    weight: float


def build_accounts(scale: int, seed: int, people: People) -> list[Account]:
    rng = random.Random(f"{seed}:accounts")
    n = min(400, max(20, scale // 600))
    out: list[Account] = []
    used: set[str] = set()
    for i in range(n):
        while True:
            city = rng.choice(_COMPANY_CITY)
            name = city + rng.choice(_COMPANY_CORE) + rng.choice(_COMPANY_KIND)
            if name not in used:
                used.add(name)
                break
        prov = next(p.name for p in catalog.PROVINCES if city in p.cities)
        late = rng.random() < 0.22
        # 60 % are customers from the start, the rest are won during the window
        created = 0 if i < n * 0.6 else rng.randrange(30, cal.DAYS - 30)
        out.append(
            Account(
                code=f"C{10001 + i}",
                name=name,
                province=prov,
                city=city,
                contact=rng.randrange(people.n),
                terms_days=rng.choice((30, 30, 45, 60)),
                pay_delay=(25, 110) if late else (-5, 6),
                late_payer=late,
                created_day=created,
                weight=rng.paretovariate(1.3),
            )
        )
    return out
