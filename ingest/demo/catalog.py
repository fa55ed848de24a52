"""Master data of the demo company (OpsLake家居, a home-goods brand): products, channels,
provinces, stores, warehouses and suppliers.

Everything here is a pure function of the seed. Money is integer fen throughout.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field

from . import calendar as cal

BRAND = "OpsLake家居"

# ------------------------------------------------------------------ channels


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    share: float  # of all orders
    basket: float  # mean lines per order
    discount: float  # mean discount depth on a normal day
    return_rate: float  # share of paid orders refunded
    unpaid_rate: float  # share of orders never paid (closed)
    price: float  # channel price level vs list price
    hours: str  # hour-of-day shape


CHANNELS: dict[str, Channel] = {
    c.code: c
    for c in [
        Channel("tmall", "天猫旗舰店", 0.30, 2.4, 0.10, 0.08, 0.04, 1.00, "online"),
        Channel("jd", "京东自营旗舰店", 0.20, 2.2, 0.07, 0.05, 0.00, 0.98, "online"),
        Channel("douyin", "抖音小店", 0.24, 1.4, 0.18, 0.15, 0.06, 0.95, "online"),
        Channel("shopify", "官网商城", 0.08, 2.8, 0.04, 0.04, 0.03, 1.05, "online"),
        Channel("pos", "线下门店", 0.17, 3.4, 0.03, 0.02, 0.00, 1.00, "pos"),
        Channel("manual", "大客户(B2B)", 0.01, 5.0, 0.12, 0.01, 0.00, 0.72, "b2b"),
    ]
}

# ----------------------------------------------------------------- provinces


@dataclass(frozen=True)
class Province:
    name: str
    code: str  # ISO 3166-2:CN suffix, Shopify's province_code
    weight: float
    cities: tuple[str, ...]
    zip_prefix: str
    warehouse: str


_WH_E, _WH_S, _WH_N, _WH_W = "WH01", "WH02", "WH03", "WH04"

PROVINCES: list[Province] = [
    Province("广东", "GD", 14.0, ("广州", "深圳", "东莞", "佛山"), "51", _WH_S),
    Province("浙江", "ZJ", 10.0, ("杭州", "宁波", "温州"), "31", _WH_E),
    Province("江苏", "JS", 10.0, ("南京", "苏州", "无锡"), "21", _WH_E),
    Province("上海", "SH", 7.5, ("上海",), "20", _WH_E),
    Province("北京", "BJ", 6.0, ("北京",), "10", _WH_N),
    Province("山东", "SD", 6.0, ("济南", "青岛", "烟台"), "25", _WH_N),
    Province("四川", "SC", 5.0, ("成都", "绵阳"), "61", _WH_W),
    Province("福建", "FJ", 4.5, ("福州", "厦门", "泉州"), "35", _WH_S),
    Province("河南", "HA", 4.0, ("郑州", "洛阳"), "45", _WH_N),
    Province("湖北", "HB", 4.0, ("武汉", "宜昌"), "43", _WH_E),
    Province("湖南", "HN", 3.5, ("长沙", "株洲"), "41", _WH_S),
    Province("安徽", "AH", 3.0, ("合肥", "芜湖"), "23", _WH_E),
    Province("河北", "HE", 3.0, ("石家庄", "保定"), "05", _WH_N),
    Province("天津", "TJ", 2.0, ("天津",), "30", _WH_N),
    Province("重庆", "CQ", 2.5, ("重庆",), "40", _WH_W),
    Province("陕西", "SN", 2.2, ("西安",), "71", _WH_W),
    Province("辽宁", "LN", 2.2, ("沈阳", "大连"), "11", _WH_N),
    Province("江西", "JX", 1.8, ("南昌",), "33", _WH_E),
    Province("广西", "GX", 1.6, ("南宁", "桂林"), "53", _WH_S),
    Province("云南", "YN", 1.5, ("昆明",), "65", _WH_W),
    Province("山西", "SX", 1.2, ("太原",), "03", _WH_N),
    Province("黑龙江", "HL", 1.0, ("哈尔滨",), "15", _WH_N),
    Province("吉林", "JL", 0.8, ("长春",), "13", _WH_N),
    Province("贵州", "GZ", 1.0, ("贵阳",), "55", _WH_W),
    Province("海南", "HI", 0.6, ("海口", "三亚"), "57", _WH_S),
    Province("内蒙古", "NM", 0.6, ("呼和浩特",), "01", _WH_N),
    Province("新疆", "XJ", 0.5, ("乌鲁木齐",), "83", _WH_W),
    Province("甘肃", "GS", 0.5, ("兰州",), "73", _WH_W),
    Province("宁夏", "NX", 0.2, ("银川",), "75", _WH_W),
    Province("青海", "QH", 0.15, ("西宁",), "81", _WH_W),
    Province("西藏", "XZ", 0.1, ("拉萨",), "85", _WH_W),
]
PROVINCE_CUM = cal.cumulative([p.weight for p in PROVINCES])
PROVINCE_INDEX = {p.name: i for i, p in enumerate(PROVINCES)}

DISTRICTS = ("中心区", "新区", "高新区", "开发区", "老城区", "滨江区")
STREETS = ("人民路", "解放路", "中山路", "建设路", "和平路", "文化路", "新华路", "科技路")


def pick_province(rng: random.Random) -> int:
    return bisect_right(PROVINCE_CUM, rng.random() * PROVINCE_CUM[-1])


# ---------------------------------------------------------------- warehouses


@dataclass(frozen=True)
class Warehouse:
    code: str
    name: str
    province: str
    city: str
    kind: str  # central | regional


WAREHOUSES: list[Warehouse] = [
    Warehouse("WH01", "华东中心仓", "浙江", "嘉兴", "central"),
    Warehouse("WH02", "华南仓", "广东", "广州", "regional"),
    Warehouse("WH03", "华北仓", "天津", "天津", "regional"),
    Warehouse("WH04", "西南仓", "四川", "成都", "regional"),
]
WAREHOUSE_INDEX = {w.code: i for i, w in enumerate(WAREHOUSES)}

# -------------------------------------------------------------------- stores


@dataclass(frozen=True)
class Store:
    code: str
    name: str
    province: str
    city: str
    warehouse: str
    encoding: str  # of its POS export
    weight: float
    opened: int  # day index the store opened
    preamble_rate: float  # share of its daily files with a preamble + Summary row
    currency_symbol_rate: float  # share of its files with "¥" money
    thousands_rate: float  # share of its files with thousands separators
    terminals: int


STORES: list[Store] = [
    Store("SH01", "上海南京西路店", "上海", "上海", "WH01", "utf-8", 1.3, 0, 0.0, 0.0, 0.0, 3),
    Store("HZ01", "杭州湖滨店", "浙江", "杭州", "WH01", "utf-8", 1.0, 0, 0.05, 0.0, 0.10, 2),
    Store("GZ01", "广州天河店", "广东", "广州", "WH02", "gbk", 1.1, 0, 0.30, 0.0, 0.0, 2),
    Store("SZ01", "深圳万象城店", "广东", "深圳", "WH02", "gbk", 1.0, 0, 0.0, 0.25, 0.25, 2),
    # the fifth store opens in September 2025 (growth you can see on the store chart)
    Store("CD01", "成都太古里店", "四川", "成都", "WH04", "utf-8", 0.9, 304, 0.10, 0.0, 0.0, 2),
]

# ------------------------------------------------------------------ products

# category code, name, production, nouns: (noun, base price yuan, spec options, season)
_CATEGORIES: list[tuple[str, str, str, list[tuple[str, float, tuple[str, ...], str]]]] = [
    (
        "KIT",
        "厨房用品",
        "buy",
        [
            ("不锈钢保温杯", 89, ("350ml", "500ml", "750ml"), ""),
            ("玻璃保鲜盒套装", 69, ("3件套", "5件套"), ""),
            ("陶瓷餐具套装", 199, ("2人份", "4人份", "6人份"), ""),
            ("不粘炒锅", 159, ("28cm", "32cm"), ""),
            ("硅胶厨具五件套", 79, ("标准款",), ""),
            ("德式刀具套装", 299, ("5件套", "7件套"), ""),
            ("竹制砧板", 49, ("中号", "大号"), ""),
            ("调料罐组合", 39, ("4格", "6格"), ""),
        ],
    ),
    (
        "STO",
        "收纳整理",
        "buy",
        [
            ("折叠收纳箱", 45, ("30L", "55L", "80L"), ""),
            ("植绒防滑衣架", 29, ("20支装", "50支装"), ""),
            ("真空压缩袋", 59, ("8件套", "12件套"), "winter"),
            ("抽屉分隔收纳盒", 35, ("4件套", "8件套"), ""),
            ("多层鞋架", 89, ("4层", "6层"), ""),
            ("桌面收纳盒", 25, ("标准款",), ""),
        ],
    ),
    (
        "CLN",
        "家居清洁",
        "make",
        [
            ("洗衣凝珠", 49, ("30颗", "60颗"), ""),
            ("地板清洁剂", 29, ("1L", "2L"), ""),
            ("厨房湿巾", 19, ("80抽", "3包装"), ""),
            ("平板拖把", 99, ("标准款", "带桶款"), ""),
            ("加厚垃圾袋", 15, ("100只", "300只"), ""),
            ("果蔬洗洁精", 22, ("1kg", "2kg"), ""),
        ],
    ),
    (
        "APL",
        "小家电",
        "buy",
        [
            ("电热水壶", 129, ("1.5L", "1.7L"), ""),
            ("空气炸锅", 399, ("4L", "6L"), ""),
            ("暖风机", 269, ("标准款", "遥控款"), "winter"),
            ("无叶电风扇", 349, ("台式", "落地式"), "summer"),
            ("加湿器", 189, ("3L", "5L"), "winter"),
            ("无线吸尘器", 899, ("标准款", "Pro"), ""),
            ("破壁料理机", 599, ("标准款",), ""),
        ],
    ),
    (
        "BED",
        "床上用品",
        "make",
        [
            ("纯棉四件套", 299, ("1.5m", "1.8m", "2.0m"), ""),
            ("记忆棉枕", 159, ("标准款", "护颈款"), ""),
            ("蚕丝被", 899, ("春秋款", "冬款"), "winter"),
            ("冰丝凉席", 199, ("1.5m", "1.8m"), "summer"),
            ("法兰绒毛毯", 139, ("150x200", "200x230"), "winter"),
        ],
    ),
    (
        "PER",
        "个护",
        "make",
        [
            ("纯棉毛巾", 29, ("2条装", "4条装"), ""),
            ("加厚浴巾", 69, ("标准款",), ""),
            ("声波电动牙刷", 249, ("标准款", "礼盒款"), ""),
            ("负离子吹风机", 299, ("标准款",), ""),
        ],
    ),
]
_COLORS = ("雾白", "石墨黑", "樱花粉", "薄荷绿", "燕麦色", "海盐蓝")
N_PRODUCTS = 200


@dataclass
class Product:
    idx: int
    sku: str
    name: str
    category_code: str
    category: str
    spec: str
    color: str
    price: int  # list price, fen, VAT included
    cost: int  # standard cost, fen, VAT included (the books carry cost / 1.13)
    sourcing: str  # buy | make
    season: str  # '' | winter | summer
    launch_day: int  # day index it went on sale
    end_day: int  # day index after which it is no longer sold (DAYS = never)
    revenue_weight: float
    supplier: str = ""
    barcode: str = ""
    channel_codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def _season_factor(season: str, month: int) -> float:
    if season == "winter":
        return {11: 2.6, 12: 3.0, 1: 2.8, 2: 1.8, 10: 1.4, 3: 0.8}.get(month, 0.25)
    if season == "summer":
        return {5: 1.5, 6: 3.0, 7: 3.5, 8: 2.5, 9: 0.8}.get(month, 0.15)
    return 1.0


def build_products(seed: int) -> list[Product]:
    rng = random.Random(f"{seed}:products")
    raw: list[tuple] = []
    for cat_code, cat_name, sourcing, nouns in _CATEGORIES:
        for noun, base, specs, season in nouns:
            for si, spec in enumerate(specs):
                for color in _COLORS:
                    raw.append(
                        (
                            cat_code,
                            cat_name,
                            sourcing,
                            noun,
                            base * (1 + 0.35 * si),
                            spec,
                            color,
                            season,
                        )
                    )
    rng.shuffle(raw)
    raw = raw[:N_PRODUCTS]
    raw.sort(key=lambda r: (r[0], r[3], r[5], r[6]))
    # Pareto: revenue weight follows a Zipf law over a random rank
    ranks = list(range(N_PRODUCTS))
    rng.shuffle(ranks)
    products: list[Product] = []
    counters: dict[str, int] = {}
    for i, (cat_code, cat_name, sourcing, noun, base, spec, color, season) in enumerate(raw):
        counters[cat_code] = counters.get(cat_code, 0) + 1
        price_yuan = round(base * rng.uniform(0.9, 1.1)) - 0.1  # xx9.9 pricing
        price = max(990, int(round(price_yuan * 100)))
        cost = int(price * rng.uniform(0.32, 0.5))
        rank = ranks[i]
        launch = 0
        end = cal.DAYS
        u = rng.random()
        if rank > 20 and u < 0.15:
            launch = rng.randrange(120, 600)  # new product launched during the window
        elif rank > 60 and u < 0.20:
            end = rng.randrange(250, 650)  # discontinued
        sku = f"OL-{cat_code}-{counters[cat_code]:04d}"
        products.append(
            Product(
                idx=i,
                sku=sku,
                name=f"{noun} {spec} {color}",
                category_code=cat_code,
                category=cat_name,
                spec=spec,
                color=color,
                price=price,
                cost=cost,
                sourcing=sourcing,
                season=season,
                launch_day=launch,
                end_day=end,
                revenue_weight=1.0 / (rank + 1) ** 1.1,
                barcode=_ean13(f"690{seed % 10}{31257:05d}"[:8] + f"{i:04d}"),
            )
        )
    for p in products:
        n = p.idx
        p.channel_codes = {
            # (channel product id, channel sku id, merchant SKU code seen in the payload)
            "tmall": (
                str(600000000000 + n * 7919 % 99991 * 1000 + n),
                str(5000000000000 + n * 104729),
                f"TM{p.sku[3:].replace('-', '')}",
            ),
            "jd": (str(100000000 + n * 31), str(100020000000 + n * 17), f"JD_{p.sku[3:]}"),
            "douyin": (
                str(3600000000000000000 + n * 1000003),
                str(1700000000000000 + n * 7),
                f"DY{n:04d}{p.category_code}",
            ),
            "shopify": (str(7300000000000 + n * 13), str(42000000000000 + n * 11), p.sku.lower()),
            "pos": ("", "", p.barcode),
            "manual": ("", "", p.sku),
        }
    return products


def _ean13(first12: str) -> str:
    digits = [int(c) for c in first12]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return first12 + str(check)


class ProductPicker:
    """Draws products for an order line: Pareto weights × season × lifecycle, per month.

    Douyin sells a narrower range (its hits), so it gets a more concentrated table."""

    def __init__(self, products: list[Product]):
        self.products = products
        self.tables: dict[tuple[bool, str], tuple[list[float], list[int]]] = {}
        months = cal.months()
        for month in months:
            first = next(i for i in range(cal.DAYS) if cal.day_str(i)[:7] == month)
            m = int(month[5:])
            for narrow in (False, True):
                cum: list[float] = []
                idx: list[int] = []
                total = 0.0
                for p in products:
                    if p.launch_day > first + 27 or p.end_day < first:
                        continue
                    w = p.revenue_weight * _season_factor(p.season, m) / p.price
                    if narrow:
                        w = w**1.15
                    total += w
                    cum.append(total)
                    idx.append(p.idx)
                self.tables[(narrow, month)] = (cum, idx)

    def pick(self, rng: random.Random, month: str, narrow: bool) -> int:
        cum, idx = self.tables[(narrow, month)]
        return idx[bisect_right(cum, rng.random() * cum[-1])]


# ----------------------------------------------------------------- suppliers


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    province: str
    city: str
    categories: tuple[str, ...]
    lead_days: int
    on_time_rate: float  # share of deliveries on or before the promised date
    late_days: tuple[int, int]  # range of lateness when late
    reject_rate: float  # mean share of received qty rejected at IQC
    price_bias: float  # mean invoice price vs list cost (0.03 = 3 % above)
    terms_days: int
    contact: str
    phone: str


SUPPLIERS: list[Supplier] = [
    Supplier(
        "S001",
        "永康市恒达不锈钢制品有限公司",
        "浙江",
        "永康",
        ("KIT",),
        12,
        0.95,
        (2, 6),
        0.008,
        0.00,
        60,
        "陈建国",
        "0579-87123456",
    ),
    Supplier(
        "S002",
        "潮州市瓷都陶瓷有限公司",
        "广东",
        "潮州",
        ("KIT",),
        18,
        0.78,
        (4, 15),
        0.035,
        -0.02,
        45,
        "林晓峰",
        "0768-2233445",
    ),
    Supplier(
        "S003",
        "台州市佳美塑料制品厂",
        "浙江",
        "台州",
        ("STO",),
        10,
        0.90,
        (2, 8),
        0.015,
        0.01,
        30,
        "王丽",
        "0576-88990011",
    ),
    Supplier(
        "S004",
        "义乌市百纳日用品有限公司",
        "浙江",
        "义乌",
        ("STO", "KIT"),
        8,
        0.62,
        (5, 20),
        0.055,
        -0.05,
        30,
        "何志强",
        "0579-85551234",
    ),
    Supplier(
        "S005",
        "佛山市顺德区美居电器有限公司",
        "广东",
        "佛山",
        ("APL",),
        20,
        0.88,
        (3, 10),
        0.012,
        0.02,
        60,
        "梁伟明",
        "0757-22887766",
    ),
    Supplier(
        "S006",
        "宁波凯越电器科技有限公司",
        "浙江",
        "宁波",
        ("APL",),
        25,
        0.70,
        (7, 25),
        0.030,
        0.04,
        45,
        "张海燕",
        "0574-87665544",
    ),
    Supplier(
        "S007",
        "南通市锦绣纺织原料有限公司",
        "江苏",
        "南通",
        ("BED", "PER"),
        9,
        0.93,
        (2, 5),
        0.010,
        0.00,
        60,
        "顾晓东",
        "0513-85123123",
    ),
    Supplier(
        "S008",
        "广州市洁瑞日化有限公司",
        "广东",
        "广州",
        ("CLN",),
        7,
        0.85,
        (2, 9),
        0.020,
        0.02,
        30,
        "黄国平",
        "020-87654321",
    ),
]


def assign_suppliers(products: list[Product], seed: int) -> None:
    """Bought products get a supplier; in the workshop's categories about half the range is
    made in-house (no supplier) and the rest is bought in (OEM)."""
    rng = random.Random(f"{seed}:suppliers")
    for p in products:
        if p.sourcing == "make" and rng.random() < 0.45:
            p.sourcing = "buy"
        if p.sourcing == "make":
            p.supplier = ""
            continue
        cands = [s.code for s in SUPPLIERS if p.category_code in s.categories]
        p.supplier = cands[0] if len(cands) == 1 or rng.random() < 0.6 else rng.choice(cands[1:])


B2B_QTY = (5, 10, 10, 10, 20, 20, 30, 50)
MEAN_QTY = {"manual": sum(B2B_QTY) / len(B2B_QTY)}  # others: 1 (80 %), 2 (15 %), 3-5 (5 %)


def expected_daily_units(products: list[Product], scale: int) -> list[float]:
    """Rough mean units per day per product over the window (for the initial stock and the
    static safety stock; the simulation then reacts to what really sells)."""
    units = scale * sum(c.share * c.basket * MEAN_QTY.get(c.code, 1.3) for c in CHANNELS.values())
    weights = []
    for p in products:
        alive = max(1, min(p.end_day, cal.DAYS) - p.launch_day) / cal.DAYS
        weights.append(p.revenue_weight / p.price * alive)
    total = sum(weights)
    return [units * w / total / cal.DAYS for w in weights]
