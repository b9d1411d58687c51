"""Demo data for newcomers: a staff member, a customer and a few dozen products (some with
Chinese names), created through the blocks' service functions. Running it twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.blocks.order import service as order_service
from tessera.blocks.order.model.dto import ProductCreateIn
from tessera.blocks.user import service as user_service
from tessera.blocks.user.model.dto import AdminUpdateUserIn, RegisterIn
from tessera.lib.errors import Conflict
from tessera.lib.pagination import PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.web import ClientInfo

STAFF = ("staff", "staff@example.com", "Staff-Demo-Passw0rd")
CUSTOMER = ("customer", "customer@example.com", "Customer-Demo-Passw0rd")

PRODUCTS = [
    ("TEA-LONGJING", "西湖龙井 Longjing green tea 250g", "128.00", 40),
    ("TEA-PUER", "云南普洱 Pu'er cake 357g", "216.00", 25),
    ("TEA-OOLONG", "铁观音 Tieguanyin oolong 200g", "98.50", 60),
    ("TEA-JASMINE", "茉莉花茶 Jasmine tea 100g", "45.00", 80),
    ("TEA-BLACK", "祁门红茶 Keemun black tea 150g", "76.00", 50),
    ("CUP-CELADON", "青瓷茶杯 Celadon cup", "39.90", 120),
    ("POT-YIXING", "宜兴紫砂壶 Yixing clay teapot", "680.00", 6),
    ("SET-TRAVEL", "便携茶具 Travel tea set", "159.00", 30),
    ("SNACK-MOON", "月饼礼盒 Mooncake gift box", "188.00", 15),
    ("SNACK-SEEDS", "瓜子 Roasted sunflower seeds 500g", "18.80", 200),
    ("SNACK-DATES", "新疆红枣 Xinjiang red dates 1kg", "49.00", 90),
    ("SAUCE-SOY", "老抽 Dark soy sauce 500ml", "12.50", 150),
    ("SAUCE-CHILI", "老干妈 Chili crisp 280g", "15.90", 300),
    ("NOODLE-LZ", "兰州拉面 Lanzhou noodles x5", "29.90", 110),
    ("RICE-WUCHANG", "五常大米 Wuchang rice 5kg", "89.00", 70),
    ("SILK-SCARF", "苏州丝巾 Suzhou silk scarf", "268.00", 12),
    ("FAN-PAPER", "折扇 Folding paper fan", "35.00", 75),
    ("BRUSH-SET", "毛笔套装 Calligraphy brush set", "120.00", 20),
    ("INK-STONE", "端砚 Duan inkstone", "450.00", 4),
    ("LANTERN-RED", "红灯笼 Red lantern (pair)", "58.00", 40),
]
PLAIN = [
    ("MUG-STEEL", "Steel travel mug", "24.00", 100),
    ("BAG-TOTE", "Canvas tote bag", "19.00", 140),
    ("NOTE-A5", "A5 dotted notebook", "9.90", 300),
    ("PEN-GEL", "Gel pen, pack of 10", "7.50", 500),
    ("USB-C-CABLE", "USB-C cable 1 m", "11.00", 250),
    ("CHARGER-65W", "65 W charger", "39.00", 60),
    ("LAMP-DESK", "LED desk lamp", "45.00", 35),
    ("PLANT-POT", "Ceramic plant pot", "16.00", 80),
    ("SOCKS-WOOL", "Wool socks", "12.00", 160),
    ("UMBRELLA", "Compact umbrella", "21.00", 90),
    ("CANDLE-SOY", "Soy candle", "14.00", 70),
    ("PUZZLE-1000", "Jigsaw puzzle, 1000 pieces", "22.00", 45),
]
SYSTEM = Principal(
    id=0, username="demo-seed", is_active=True, roles=frozenset(), permissions=frozenset()
)


@dataclass(frozen=True, slots=True)
class SeedReport:
    users_created: list[str]
    products_created: int
    products_existing: int


async def _ensure_user(runtime: Runtime, username: str, email: str, password: str) -> bool:
    try:
        await user_service.register_user(
            runtime=runtime,
            data=RegisterIn(username=username, email=email, password=password),
            client=ClientInfo(ip="demo-seed", user_agent="tessera demo seed"),
        )
    except Conflict:
        return False
    return True


async def seed(*, runtime: Runtime) -> SeedReport:
    created: list[str] = []
    if await _ensure_user(runtime, *STAFF):
        created.append(STAFF[0])
        page = await user_service.list_users(
            runtime=runtime,
            paging=PageParams(page=1, size=1),
            q=STAFF[1],
            role=None,
            is_active=None,
        )
        await user_service.admin_update_user(
            runtime=runtime,
            actor=SYSTEM,
            user_id=page.items[0].id,
            data=AdminUpdateUserIn(roles=["staff"]),
        )
    if await _ensure_user(runtime, *CUSTOMER):
        created.append(CUSTOMER[0])
    made = existing = 0
    for sku, name, price, stock in PRODUCTS + PLAIN:
        try:
            await order_service.create_product(
                runtime=runtime,
                data=ProductCreateIn.model_validate(
                    {
                        "sku": sku,
                        "name": name,
                        "description": f"Demo product {sku}.",
                        "price": price,
                        "stock": stock,
                    }
                ),
            )
            made += 1
        except Conflict:
            existing += 1
    return SeedReport(users_created=created, products_created=made, products_existing=existing)
