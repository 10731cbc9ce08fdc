"""A demo pharmacy and health store catalog; seeding twice adds nothing (ON CONFLICT)."""

# Russian product names are full of Cyrillic letters that look like Latin ones.

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from shared.db import DbConn

# slug, name (ru), name (kk), parent slug; parents before their children.
CATEGORIES: tuple[tuple[str, str, str, str | None], ...] = (
    ("medicines", "Лекарства", "Дәрілер", None),
    ("pain-fever", "Обезболивающие и жаропонижающие", "Ауырсынуды басатын және қызу түсіретін",
     "medicines"),
    ("cold-flu", "Простуда и грипп", "Суық тию және тұмау", "medicines"),
    ("digestion", "Пищеварение", "Ас қорыту", "medicines"),
    ("vitamins", "Витамины и минералы", "Дәрумендер мен минералдар", None),
    ("first-aid", "Первая помощь", "Алғашқы көмек", None),
    ("hygiene", "Гигиена и уход", "Гигиена және күтім", None),
)  # fmt: skip

# sku, name, category, price in tiyn, weight in grams, stock, description
# fmt: off
PRODUCTS: tuple[tuple[str, str, str, int, int, int, str], ...] = (
    ("PARA-500-20", "Парацетамол 500 мг, 20 таблеток", "pain-fever", 25_000, 20, 120,
     "Жаропонижающее и обезболивающее средство."),
    ("IBU-200-50", "Ибупрофен 200 мг, 50 таблеток", "pain-fever", 68_000, 35, 80,
     "Нестероидное противовоспалительное средство."),
    ("NURO-SUSP-100", "Нурофен для детей, суспензия 100 мл", "pain-fever", 189_000, 160, 40,
     "Суспензия с апельсиновым вкусом для детей от 3 месяцев."),
    ("ASPC-10", "Аспирин С, 10 шипучих таблеток", "pain-fever", 142_000, 60, 55,
     "Ацетилсалициловая кислота с витамином С."),
    ("NOSH-40-24", "Но-шпа 40 мг, 24 таблетки", "pain-fever", 156_000, 25, 70,
     "Спазмолитическое средство."),
    ("CITR-10", "Цитрамон П, 10 таблеток", "pain-fever", 19_000, 12, 150,
     "Комбинированное средство от головной боли."),
    ("THER-10", "Терафлю от гриппа и простуды, 10 пакетиков", "cold-flu", 329_000, 230, 35,
     "Порошок для приготовления горячего напитка со вкусом лимона."),
    ("AQUA-SPR-125", "Аквамарис спрей назальный 30 мл", "cold-flu", 265_000, 70, 45,
     "Стерильный раствор морской воды для промывания носа."),
    ("XYLO-01-10", "Ксилометазолин 0,1% спрей 10 мл", "cold-flu", 54_000, 30, 90,
     "Сосудосуживающий спрей для носа."),
    ("STREP-24", "Стрепсилс с мёдом и лимоном, 24 пастилки", "cold-flu", 215_000, 45, 60,
     "Пастилки для рассасывания при боли в горле."),
    ("AMBR-30-20", "Амброксол 30 мг, 20 таблеток", "cold-flu", 42_000, 18, 100,
     "Отхаркивающее средство при влажном кашле."),
    ("GERB-SYR-150", "Гербион сироп подорожника 150 мл", "cold-flu", 198_000, 250, 30,
     "Сироп от сухого кашля на растительной основе."),
    ("VITC-1000-20", "Витамин С 1000 мг, 20 шипучих таблеток", "vitamins", 98_000, 90, 110,
     "Аскорбиновая кислота со вкусом апельсина."),
    ("VITD3-2000-60", "Витамин D3 2000 МЕ, 60 капсул", "vitamins", 265_000, 40, 75,
     "Холекальциферол для поддержки костей и иммунитета."),
    ("OMEG3-1000-90", "Омега-3 1000 мг, 90 капсул", "vitamins", 459_000, 150, 50,
     "Рыбий жир, источник полиненасыщенных жирных кислот."),
    ("MAGB6-50", "Магний B6, 50 таблеток", "vitamins", 312_000, 55, 65,
     "Магний с витамином B6 при усталости и стрессе."),
    ("COMPL-60", "Компливит, 60 таблеток", "vitamins", 175_000, 70, 85,
     "Поливитамины с минералами для взрослых."),
    ("ZINC-25-30", "Цинк 25 мг, 30 таблеток", "vitamins", 89_000, 25, 60,
     "Поддержка иммунитета, кожи и волос."),
    ("SMEC-10", "Смекта, 10 пакетиков", "digestion", 168_000, 45, 70,
     "Порошок для приготовления суспензии при диарее."),
    ("MEZIM-20", "Мезим форте, 20 таблеток", "digestion", 119_000, 20, 90,
     "Ферментный препарат для улучшения пищеварения."),
    ("ACTC-250-10", "Активированный уголь 250 мг, 10 таблеток", "digestion", 9_000, 8, 200,
     "Энтеросорбент."),
    ("LINX-16", "Линекс, 16 капсул", "digestion", 289_000, 25, 40,
     "Пробиотик для восстановления микрофлоры кишечника."),
    ("REGH-20", "Регидрон, 20 пакетиков", "digestion", 236_000, 400, 30,
     "Порошок для восстановления водно-электролитного баланса."),
    ("BAND-SET-20", "Пластырь бактерицидный, набор 20 шт.", "first-aid", 39_000, 30, 150,
     "Пластыри разных размеров с антисептической подушечкой."),
    ("BINT-7-14", "Бинт стерильный 7 м × 14 см", "first-aid", 28_000, 40, 120,
     "Марлевый медицинский бинт."),
    ("CHLH-005-100", "Хлоргексидин 0,05% раствор 100 мл", "first-aid", 18_000, 120, 140,
     "Антисептик для обработки ран и слизистых."),
    ("PERX-3-100", "Перекись водорода 3% 100 мл", "first-aid", 12_000, 115, 160,
     "Раствор для обработки ссадин и порезов."),
    ("PANT-CRM-30", "Пантенол крем 5%, 30 г", "first-aid", 135_000, 45, 45,
     "Крем при ожогах и раздражении кожи."),
    ("THERM-DIG", "Термометр электронный цифровой", "first-aid", 249_000, 25, 35,
     "Измерение температуры тела за 60 секунд, звуковой сигнал."),
    ("MASK-3L-50", "Маска медицинская трёхслойная, 50 шт.", "hygiene", 149_000, 160, 100,
     "Одноразовые маски с ушными петлями."),
    ("SANT-GEL-100", "Антисептический гель для рук 100 мл", "hygiene", 59_000, 110, 130,
     "Гель на спиртовой основе с алоэ вера."),
    ("TOOTH-SENS-75", "Зубная паста для чувствительных зубов 75 мл", "hygiene", 119_000, 110, 80,
     "Снижает чувствительность, укрепляет эмаль."),
    ("AMOX-500-16", "Амоксициллин 500 мг, 16 капсул", "cold-flu", 145_000, 15, 40,
     "Антибиотик пенициллинового ряда. Отпускается по рецепту."),
    ("LORA-10-10", "Лоратадин 10 мг, 10 таблеток", "medicines", 35_000, 8, 90,
     "Противоаллергическое средство."),
)

# sku: name (kk), form, dosage, pack size, prescription only
DETAILS: dict[str, tuple[str, str, str | None, int | None, bool]] = {
    "PARA-500-20": ("Парацетамол 500 мг, 20 таблетка", "tablets", "500 мг", 20, False),
    "IBU-200-50": ("Ибупрофен 200 мг, 50 таблетка", "tablets", "200 мг", 50, False),
    "NURO-SUSP-100": ("Балаларға арналған Нурофен, суспензия 100 мл", "suspension",
                      "100 мг/5 мл", 1, False),
    "ASPC-10": ("Аспирин С, 10 көпіршікті таблетка", "tablets", "400 мг", 10, False),
    "NOSH-40-24": ("Но-шпа 40 мг, 24 таблетка", "tablets", "40 мг", 24, False),
    "CITR-10": ("Цитрамон П, 10 таблетка", "tablets", None, 10, False),
    "THER-10": ("Терафлю тұмау мен суық тиюге қарсы, 10 пакет", "powder", None, 10, False),
    "AQUA-SPR-125": ("Аквамарис мұрынға арналған спрей 30 мл", "spray", None, 1, False),
    "XYLO-01-10": ("Ксилометазолин 0,1% спрей 10 мл", "spray", "0,1%", 1, False),
    "STREP-24": ("Стрепсилс бал және лимонмен, 24 пастилка", "lozenges", None, 24, False),
    "AMBR-30-20": ("Амброксол 30 мг, 20 таблетка", "tablets", "30 мг", 20, False),
    "GERB-SYR-150": ("Гербион бақажапырақ шәрбаты 150 мл", "syrup", None, 1, False),
    "VITC-1000-20": ("С дәрумені 1000 мг, 20 көпіршікті таблетка", "tablets", "1000 мг", 20,
                     False),
    "VITD3-2000-60": ("D3 дәрумені 2000 ХБ, 60 капсула", "capsules", "2000 ХБ", 60, False),
    "OMEG3-1000-90": ("Омега-3 1000 мг, 90 капсула", "capsules", "1000 мг", 90, False),
    "MAGB6-50": ("Магний B6, 50 таблетка", "tablets", None, 50, False),
    "COMPL-60": ("Компливит, 60 таблетка", "tablets", None, 60, False),
    "ZINC-25-30": ("Мырыш 25 мг, 30 таблетка", "tablets", "25 мг", 30, False),
    "SMEC-10": ("Смекта, 10 пакет", "powder", "3 г", 10, False),
    "MEZIM-20": ("Мезим форте, 20 таблетка", "tablets", None, 20, False),
    "ACTC-250-10": ("Белсендірілген көмір 250 мг, 10 таблетка", "tablets", "250 мг", 10, False),
    "LINX-16": ("Линекс, 16 капсула", "capsules", None, 16, False),
    "REGH-20": ("Регидрон, 20 пакет", "powder", None, 20, False),
    "BAND-SET-20": ("Бактерицидті пластырь, 20 дана жиынтық", "patch", None, 20, False),
    "BINT-7-14": ("Стерильді дәке 7 м × 14 см", "other", None, 1, False),
    "CHLH-005-100": ("Хлоргексидин 0,05% ерітінді 100 мл", "solution", "0,05%", 1, False),
    "PERX-3-100": ("Сутегі асқын тотығы 3% 100 мл", "solution", "3%", 1, False),
    "PANT-CRM-30": ("Пантенол кремі 5%, 30 г", "cream", "5%", 1, False),
    "THERM-DIG": ("Электронды сандық термометр", "device", None, 1, False),
    "MASK-3L-50": ("Үш қабатты медициналық бетперде, 50 дана", "other", None, 50, False),
    "SANT-GEL-100": ("Қолға арналған антисептикалық гель 100 мл", "gel", None, 1, False),
    "TOOTH-SENS-75": ("Сезімтал тістерге арналған тіс пастасы 75 мл", "other", None, 1, False),
    "AMOX-500-16": ("Амоксициллин 500 мг, 16 капсула", "capsules", "500 мг", 16, True),
    "LORA-10-10": ("Лоратадин 10 мг, 10 таблетка", "tablets", "10 мг", 10, False),
}
# fmt: on

# A fixed namespace, so the demo products have the same ids on every machine.
_NAMESPACE = uuid5(NAMESPACE_URL, "https://shop.example.kz/catalog/demo")


def demo_id(key: str) -> UUID:
    return uuid5(_NAMESPACE, key)


async def seed_demo_catalog(conn: DbConn) -> int:
    """Insert the demo categories and products that are missing; return how many products."""
    for slug, name, name_kk, parent in CATEGORIES:
        await conn.execute(
            "INSERT INTO categories (id, slug, name, name_kk, parent_id)"
            " VALUES ($1, $2, $3, $4, (SELECT id FROM categories WHERE slug = $5))"
            " ON CONFLICT (slug) DO NOTHING",
            demo_id(f"category:{slug}"),
            slug,
            name,
            name_kk,
            parent,
        )
    category_ids = {r["slug"]: r["id"] for r in await conn.fetch("SELECT id, slug FROM categories")}
    added = 0
    for sku, name, category, price, weight_g, stock, description in PRODUCTS:
        name_kk, form, dosage, pack_size, prescription_only = DETAILS[sku]
        inserted = await conn.fetchval(
            "INSERT INTO products (id, sku, name, description, category_id, price, weight_g,"
            " stock, name_kk, form, dosage, pack_size, prescription_only)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            " ON CONFLICT (sku) DO NOTHING RETURNING true",
            demo_id(f"product:{sku}"),
            sku,
            name,
            description,
            category_ids[category],
            price,
            weight_g,
            stock,
            name_kk,
            form,
            dosage,
            pack_size,
            prescription_only,
        )
        added += bool(inserted)
    return added
