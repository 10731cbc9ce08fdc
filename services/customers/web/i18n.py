"""The message catalogue of the account pages (ru by default, kk, en) and language choice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Literal, get_args

from aiohttp import web

Lang = Literal["ru", "kk", "en"]
LANGS: Final[tuple[Lang, ...]] = get_args(Lang)
DEFAULT: Final[Lang] = "ru"
LANG_COOKIE: Final = "lang"
LANG_NAMES: Final[Mapping[Lang, str]] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

Translate = Callable[[str], str]

# key -> (ru, kk, en)
MESSAGES: Final[Mapping[str, tuple[str, str, str]]] = {
    "shop": ("Интернет-магазин", "Интернет-дүкен", "Online shop"),
    "account": ("Личный кабинет", "Жеке кабинет", "My account"),
    "language": ("Язык", "Тіл", "Language"),
    "nav": ("Разделы кабинета", "Кабинет бөлімдері", "Account sections"),
    "skip": ("Перейти к содержимому", "Мазмұнға өту", "Skip to content"),
    "to_shop": ("В магазин", "Дүкенге", "To the shop"),
    # Sign up
    "signup.title": ("Регистрация", "Тіркелу", "Sign up"),
    "signup.intro": (
        "Мы собираем только эти данные (Политика, п. 2.2). Поля, отмеченные *, обязательны.",
        "Біз тек осы деректерді жинаймыз (Саясат, 2.2-т.). * белгіленген өрістер міндетті.",
        "We collect only these data (Policy, clause 2.2). Fields marked * are required.",
    ),
    "signup.submit": ("Зарегистрироваться", "Тіркелу", "Sign up"),
    "signup.have_account": ("Уже есть аккаунт?", "Аккаунтыңыз бар ма?", "Already registered?"),
    "signup.taken": (
        "Аккаунт с таким email или телефоном уже существует.",
        "Мұндай email немесе телефонмен аккаунт бұрыннан бар.",
        "An account with this email or phone already exists.",
    ),
    "signup.policy_changed": (
        "Политика обновилась, пока вы заполняли форму. Прочитайте новую редакцию и подтвердите.",
        "Сіз пішінді толтырып жатқанда саясат жаңартылды. Жаңа нұсқаны оқып, растаңыз.",
        "The policy changed while you filled in the form. Read the new version and accept it.",
    ),
    "person": ("Покупатель", "Сатып алушы", "About you"),
    "contacts": ("Контакты", "Байланыс", "Contacts"),
    "address": ("Адрес доставки", "Жеткізу мекенжайы", "Delivery address"),
    "last_name": ("Фамилия", "Тегі", "Last name"),
    "first_name": ("Имя", "Аты", "First name"),
    "patronymic": ("Отчество (по желанию)", "Әкесінің аты (қаласаңыз)", "Patronymic (optional)"),
    "phone": ("Телефон", "Телефон", "Phone"),
    "phone.hint": (
        "Например, +7 701 234 56 78",
        "Мысалы, +7 701 234 56 78",
        "E.g. +7 701 234 56 78",
    ),
    "email": ("Email", "Email", "Email"),
    "password": ("Пароль", "Құпиясөз", "Password"),
    "password.hint": (
        "Не короче 8 символов.",
        "Кемінде 8 таңба.",
        "At least 8 characters.",
    ),
    "city": ("Город", "Қала", "City"),
    "street": ("Улица", "Көше", "Street"),
    "house": ("Дом", "Үй", "House"),
    "apartment": ("Квартира (по желанию)", "Пәтер (қаласаңыз)", "Apartment (optional)"),
    "postal_code": ("Индекс (по желанию)", "Пошта индексі (қаласаңыз)", "Postal code (optional)"),
    "comment": ("Комментарий курьеру", "Курьерге түсініктеме", "Note for the courier"),
    "policy": ("Политика конфиденциальности", "Құпиялылық саясаты", "Privacy policy"),
    "policy.version": ("Редакция", "Нұсқа", "Version"),
    "policy.effective": ("действует с", "күшіне енген күні", "effective from"),
    "policy.read": ("Текст политики", "Саясат мәтіні", "The policy text"),
    "policy.open": ("Открыть на отдельной странице", "Бөлек бетте ашу", "Open on its own page"),
    "policy.lang_note": (
        "",
        "",
        "The policy is published in Russian and Kazakh; the Russian text is shown.",
    ),
    "policy.accept": (
        "Я прочитал(а) Политику конфиденциальности (редакция {version}) и даю согласие на "
        "обработку моих персональных данных на её условиях.",
        "Мен Құпиялылық саясатын ({version} нұсқасы) оқыдым және дербес деректерімді оның "
        "шарттарымен өңдеуге келісім беремін.",
        "I have read the Privacy policy (version {version}) and consent to the processing of "
        "my personal data on its terms.",
    ),
    "policy.required": (
        "Без согласия с Политикой регистрация невозможна.",
        "Саясатпен келіспей тіркелу мүмкін емес.",
        "You cannot register without accepting the policy.",
    ),
    "marketing": ("Рекламные рассылки", "Жарнамалық хабарламалар", "Marketing messages"),
    "marketing.intro": (
        "По желанию, каждый канал отдельно; можно отменить в любой момент.",
        "Қаласаңыз, әр арна бөлек; кез келген уақытта бас тартуға болады.",
        "Optional, each channel separately; you can withdraw at any time.",
    ),
    "marketing.email": (
        "Присылать акции и предложения на email",
        "Акциялар мен ұсыныстарды email-ге жіберу",
        "Send promotions and offers by email",
    ),
    "marketing.sms": (
        "Присылать акции и предложения по SMS",
        "Акциялар мен ұсыныстарды SMS арқылы жіберу",
        "Send promotions and offers by SMS",
    ),
    # Sign in / out
    "signin.title": ("Вход", "Кіру", "Sign in"),
    "signin.login": ("Email или телефон", "Email немесе телефон", "Email or phone"),
    "signin.submit": ("Войти", "Кіру", "Sign in"),
    "signin.bad": (
        "Неверный логин или пароль.",
        "Логин немесе құпиясөз қате.",
        "The login or password is wrong.",
    ),
    "signin.throttled": (
        "Слишком много неудачных попыток. Попробуйте позже.",
        "Сәтсіз әрекеттер тым көп. Кейінірек көріңіз.",
        "Too many failed attempts. Try again later.",
    ),
    "signin.no_account": ("Нет аккаунта?", "Аккаунтыңыз жоқ па?", "No account yet?"),
    "signout": ("Выйти", "Шығу", "Sign out"),
    "signed_out": ("Вы вышли из кабинета.", "Сіз кабинеттен шықтыңыз.", "You are signed out."),
    # Profile
    "profile.title": ("Мои данные", "Менің деректерім", "My data"),
    "profile.intro": (
        "Всё, что магазин хранит о вас как о покупателе (Политика, п. 2.2).",
        "Дүкен сіз туралы сатып алушы ретінде сақтайтын барлық дерек (Саясат, 2.2-т.).",
        "Everything the shop keeps about you as a customer (Policy, clause 2.2).",
    ),
    "profile.edit": ("Изменить данные", "Деректерді өзгерту", "Edit my data"),
    "profile.edit_title": ("Изменение данных", "Деректерді өзгерту", "Edit my data"),
    "profile.save": ("Сохранить", "Сақтау", "Save"),
    "profile.cancel": ("Отмена", "Болдырмау", "Cancel"),
    "profile.saved": ("Изменения сохранены.", "Өзгерістер сақталды.", "Your changes are saved."),
    "profile.taken": (
        "Этот email или телефон уже использует другой аккаунт.",
        "Бұл email немесе телефонды басқа аккаунт пайдаланады.",
        "Another account already uses this email or phone.",
    ),
    "profile.status": ("Состояние аккаунта", "Аккаунт күйі", "Account status"),
    "profile.since": ("Зарегистрирован", "Тіркелген", "Registered"),
    "profile.locale": ("Язык писем", "Хаттар тілі", "Language of messages"),
    "status.active": ("активен", "белсенді", "active"),
    "status.blocked": ("заблокирован", "бұғатталған", "blocked"),
    "status.erased": ("удалён", "жойылған", "deleted"),
    "not_given": ("не указано", "көрсетілмеген", "not given"),
    # Consents
    "consents.title": ("Согласия", "Келісімдер", "Consents"),
    "consents.intro": (
        "Согласие на обработку данных по Политике (редакция {version}) дано при регистрации. "
        "Рекламные рассылки включаются и выключаются здесь; каждое изменение записывается.",
        "Саясат бойынша деректерді өңдеуге келісім ({version} нұсқасы) тіркелу кезінде берілді. "
        "Жарнамалық хабарламалар осында қосылады және өшіріледі; әр өзгеріс жазылады.",
        "Consent to processing under the policy (version {version}) was given at sign-up. "
        "Marketing messages are switched on and off here; every change is recorded.",
    ),
    "consents.save": ("Сохранить согласия", "Келісімдерді сақтау", "Save consents"),
    "abroad": (
        "Передача данных за рубеж",
        "Деректерді шетелге беру",
        "Transfer of data abroad",
    ),
    "abroad.intro": (
        "По желанию и отдельно от остального: без этого согласия ваши данные не получит "
        "никто за пределами Казахстана (Закон № 94-V, ст. 16).",
        "Қаласаңыз және басқасынан бөлек: бұл келісімсіз деректеріңізді Қазақстаннан тыс "
        "ешкім алмайды (№ 94-V Заң, 16-бап).",
        "Optional and separate from the rest: without this consent nobody outside Kazakhstan "
        "receives your data (Law No. 94-V, art. 16).",
    ),
    "abroad.none": (
        "Сейчас все получатели данных находятся в Казахстане.",
        "Қазір деректердің барлық алушылары Қазақстанда.",
        "Today every recipient of data is in Kazakhstan.",
    ),
    "abroad.recipients": (
        "Получатели за рубежом сейчас:",
        "Қазіргі шетелдегі алушылар:",
        "Recipients abroad today:",
    ),
    "abroad.allow": (
        "Разрешаю передавать мои данные получателям за рубежом",
        "Деректерімді шетелдегі алушыларға беруге рұқсат етемін",
        "I allow my data to be transferred to recipients abroad",
    ),
    # Disclosures
    "disclosures.title": (
        "Кто получил мои данные",
        "Деректерімді кім алды",
        "Who received my data",
    ),
    "disclosures.intro": (
        "Каждая передача ваших данных за пределы службы хранения: кому, зачем, какие поля, когда.",
        "Деректеріңізді сақтау қызметінен тыс әр беру: кімге, не үшін, қай өрістер, қашан.",
        "Every time your data left the vault: to whom, why, which fields, when.",
    ),
    "disclosures.none": (
        "Ваши данные пока никому не передавались.",
        "Деректеріңіз әлі ешкімге берілмеген.",
        "Your data has not been given to anyone yet.",
    ),
    "disclosures.recipient": ("Получатель", "Алушы", "Recipient"),
    "disclosures.purpose": ("Цель", "Мақсат", "Purpose"),
    "disclosures.fields": ("Данные", "Деректер", "Data"),
    "disclosures.at": ("Когда", "Қашан", "When"),
    "disclosures.order": ("Заказ", "Тапсырыс", "Order"),
    "disclosures.basis": ("Основание", "Негіз", "Legal basis"),
    "disclosures.country": ("Страна получателя", "Алушы елі", "Recipient's country"),
    "disclosures.reason": ("Причина", "Себеп", "Reason"),
    # Export: everything held, readable (services/customers/web/templates/export.html)
    "export.title": (
        "Всё, что хранится обо мне",
        "Мен туралы сақталғанның бәрі",
        "Everything held about me",
    ),
    "export.intro": (
        "Здесь всё, что магазин хранит о вас во всех своих службах: профиль, согласия, "
        "передачи данных, заказы, корзина, уведомления, ваши запросы, входы в аккаунт и журнал "
        "того, кто и для чего пользовался вашими данными. Тот же документ можно скачать одним "
        "файлом JSON.",
        "Мұнда дүкен өзінің барлық қызметтерінде сіз туралы сақтайтынның бәрі бар: профиль, "
        "келісімдер, деректерді беру, тапсырыстар, себет, хабарламалар, сіздің сұрауларыңыз, "
        "аккаунтқа кірулер және деректеріңізді кім және не үшін пайдаланғаны туралы журнал. "
        "Дәл осы құжатты бір JSON файлы ретінде жүктеп алуға болады.",
        "Here is everything the shop keeps about you in all its services: profile, consents, "
        "transfers of your data, orders, cart, notifications, your requests, sign-ins and the "
        "log of who used your data and why. The same document can be downloaded as one JSON "
        "file.",
    ),
    "export.download": ("Скачать (JSON)", "Жүктеу (JSON)", "Download (JSON)"),
    "export.contents": ("Разделы", "Бөлімдер", "Sections"),
    "export.incomplete": (
        "Часть служб магазина сейчас не ответила, поэтому здесь показано не всё. Попробуйте позже.",
        "Дүкеннің кейбір қызметтері қазір жауап бермеді, сондықтан мұнда бәрі көрсетілмеген. "
        "Кейінірек қайталап көріңіз.",
        "Some of the shop's services did not answer just now, so not everything is shown. "
        "Please try again later.",
    ),
    "export.missing": (
        "Этот раздел сейчас недоступен.",
        "Бұл бөлім қазір қолжетімсіз.",
        "This section is unavailable right now.",
    ),
    "export.none": ("Записей нет.", "Жазбалар жоқ.", "Nothing here."),
    "export.at": ("Когда", "Қашан", "When"),
    "export.what": ("Что", "Не", "What"),
    "export.where": ("Где", "Қайда", "Where"),
    "export.channel": ("Канал", "Арна", "Channel"),
    "export.consent": ("Согласие", "Келісім", "Consent"),
    "export.choice": ("Решение", "Шешім", "Choice"),
    "export.filed": ("Подан", "Берілді", "Filed"),
    "export.request": ("Запрос", "Сұрау", "Request"),
    "export.due": ("Срок", "Мерзімі", "Due"),
    "export.answer": ("Ответ", "Жауап", "Answer"),
    "section.profile": ("Профиль", "Профиль", "Profile"),
    "section.consents": ("Согласия", "Келісімдер", "Consents"),
    "section.disclosures": ("Передачи данных", "Деректерді беру", "Transfers of my data"),
    "section.orders": ("Заказы", "Тапсырыстар", "Orders"),
    "section.cart": ("Корзина", "Себет", "Cart"),
    "section.decisions": (
        "Автоматические решения",
        "Автоматты шешімдер",
        "Automated decisions",
    ),
    "decisions.intro": (
        "Отказы, принятые без участия человека. С каждым можно не согласиться: запрос "
        "«возражение» с номером решения; сотрудник рассмотрит его за 3 рабочих дня "
        "(Закон № 94-V, ст. 19-1).",
        "Адамның қатысуынсыз қабылданған бас тартулар. Әрқайсысына қарсылық білдіруге болады: "
        "шешім нөмірімен «қарсылық» сұрауы; қызметкер оны 3 жұмыс күні ішінде қарайды "
        "(№ 94-V Заң, 19-1-бап).",
        "Refusals made without a person. You may object to each: a request of kind objection "
        "with the decision's number; a person reviews it within 3 working days "
        "(Law No. 94-V, art. 19-1).",
    ),
    "decision.rule": ("Какой предел", "Қай шек", "Which limit"),
    "decision.count": (
        "Попыток / предел в минуту",
        "Әрекет / минуттағы шек",
        "Attempts / limit per minute",
    ),
    "decision.id": ("Номер решения", "Шешім нөмірі", "Decision number"),
    "dkind.checkout_velocity": (
        "отказ в оформлении заказа: слишком много попыток",
        "тапсырысты рәсімдеуден бас тарту: әрекеттер тым көп",
        "checkout refused: too many attempts",
    ),
    "drule.account": ("для вашего аккаунта", "аккаунтыңыз үшін", "for your account"),
    "drule.network": ("для вашей сети", "желіңіз үшін", "for your network"),
    "section.notifications": ("Уведомления", "Хабарламалар", "Notifications"),
    "section.requests": ("Мои запросы", "Менің сұрауларым", "My requests"),
    "section.sessions": ("Входы в аккаунт", "Аккаунтқа кірулер", "Sign-ins"),
    "section.audit": (
        "Кто пользовался моими данными",
        "Деректерімді кім пайдаланды",
        "Who used my data",
    ),
    "consent.pd_processing": (
        "обработка персональных данных",
        "дербес деректерді өңдеу",
        "processing of personal data",
    ),
    "consent.marketing_email": ("реклама по email", "email арқылы жарнама", "marketing by email"),
    "consent.marketing_sms": ("реклама по SMS", "SMS арқылы жарнама", "marketing by SMS"),
    "consent.given": ("дано", "берілді", "given"),
    "consent.withdrawn": (
        "отозвано или не дано",
        "кері алынды немесе берілмеді",
        "withdrawn or not given",
    ),
    "section.suppressions": (
        "Контакты, на которые не идёт реклама",
        "Жарнама жіберілмейтін байланыстар",
        "Contacts no marketing goes to",
    ),
    "suppressions.intro": (
        "Почтовый сервер или оператор SMS окончательно отказался доставлять сообщения на этот"
        " контакт. Рекламу на него мы не отправляем, пока вы не измените email или телефон в"
        " профиле.",
        "Пошта сервері немесе SMS операторы бұл байланысқа хабарлама жеткізуден біржола бас"
        " тартты. Профильде email немесе телефонды өзгерткенше, оған жарнама жібермейміз.",
        "The mail server or the SMS operator refused for good to deliver to this contact. We"
        " send it no marketing until you change the email or phone in your profile.",
    ),
    "export.reason": ("Причина", "Себебі", "Reason"),
    "export.source": ("Как", "Қалай", "How"),
    "channel.email": ("email", "email", "email"),
    "channel.sms": ("SMS", "SMS", "SMS"),
    "sreason.hard_bounce": (
        "письмо не доставлено: такого адреса нет",
        "хат жеткізілмеді: мұндай мекенжай жоқ",
        "mail not delivered: no such address",
    ),
    "sreason.provider_rejected": (
        "оператор отклонил SMS",
        "оператор SMS-ті қабылдамады",
        "the operator rejected the SMS",
    ),
    "source.account": ("в аккаунте", "аккаунтта", "in the account"),
    "source.one_click": (
        "ссылка «Отписаться» в письме",
        "хаттағы «Жазылымнан бас тарту» сілтемесі",
        "the unsubscribe link of an email",
    ),
    "source.page": (
        "страница отписки из письма",
        "хаттағы жазылымнан бас тарту беті",
        "the unsubscribe page of an email",
    ),
    "source.sms_stop": ("ответ STOP на SMS", "SMS-ке STOP жауабы", "a STOP reply by SMS"),
    "consents.history": (
        "История согласий на рекламу",
        "Жарнамаға келісімдер тарихы",
        "History of marketing consents",
    ),
    "order.status": ("Состояние", "Күйі", "Status"),
    "order.payment": ("Оплата", "Төлем", "Payment"),
    "order.delivery": ("Доставка", "Жеткізу", "Delivery"),
    "order.items": ("Товары", "Тауарлар", "Items"),
    "order.history": ("История состояний", "Күйлер тарихы", "Status history"),
    "item.name": ("Товар", "Тауар", "Product"),
    "item.quantity": ("Количество", "Саны", "Quantity"),
    "item.price": ("Цена", "Бағасы", "Price"),
    "item.total": ("Сумма", "Сомасы", "Amount"),
    "cart.added": ("Добавлен", "Қосылған", "Added"),
    "ostatus.placed": ("оформлен", "ресімделді", "placed"),
    "ostatus.awaiting_payment": ("ждёт оплаты", "төлемді күтуде", "awaiting payment"),
    "ostatus.paid": ("оплачен", "төленді", "paid"),
    "ostatus.dispatched": ("передан курьеру", "курьерге берілді", "with the courier"),
    "ostatus.delivered": ("доставлен", "жеткізілді", "delivered"),
    "ostatus.cancelled": ("отменён", "күші жойылды", "cancelled"),
    "ostatus.failed": ("не доставлен", "жеткізілмеді", "not delivered"),
    "pay.card": ("картой", "картамен", "by card"),
    "pay.cash_on_delivery": (
        "наличными при получении",
        "алған кезде қолма-қол",
        "cash on delivery",
    ),
    "paystatus.requested": ("ожидается", "күтілуде", "pending"),
    "paystatus.succeeded": ("оплачено", "төленді", "paid"),
    "paystatus.declined": ("отклонено банком", "банк қабылдамады", "declined by the bank"),
    "paystatus.cancelled": ("отменено", "күші жойылды", "cancelled"),
    "paystatus.refund_requested": ("возврат запрошен", "қайтару сұралды", "refund requested"),
    "paystatus.refunded": ("возвращено", "қайтарылды", "refunded"),
    "dstatus.requested": ("курьер вызван", "курьер шақырылды", "courier called"),
    "dstatus.released": (
        "адрес передан курьеру",
        "мекенжай курьерге берілді",
        "address given to the courier",
    ),
    "dstatus.refused": ("не передан курьеру", "курьерге берілмеді", "not given to the courier"),
    "dstatus.delivered": ("доставлен", "жеткізілді", "delivered"),
    "dstatus.failed": ("не доставлен", "жеткізілмеді", "not delivered"),
    "dstatus.cancelled": ("отменён", "күші жойылды", "cancelled"),
    "notice.welcome": ("приветствие", "сәлемдесу хаты", "welcome"),
    "notice.order_dispatched": (
        "заказ передан курьеру",
        "тапсырыс курьерге берілді",
        "order with the courier",
    ),
    "notice.order_delivered": ("заказ доставлен", "тапсырыс жеткізілді", "order delivered"),
    "notice.order_cancelled": ("заказ отменён", "тапсырыстың күші жойылды", "order cancelled"),
    "nstatus.sent": ("отправлено", "жіберілді", "sent"),
    "nstatus.failed": ("не удалось отправить", "жіберу мүмкін болмады", "could not be sent"),
    "nstatus.skipped": ("не отправлялось", "жіберілмеді", "not sent"),
    "rkind.block": ("блокирование", "бұғаттау", "blocking"),
    "rkind.unblock": ("разблокирование", "бұғаттан шығару", "unblocking"),
    "rkind.erase": ("удаление", "жою", "deletion"),
    "rkind.withdraw_consent": (
        "отзыв согласия",
        "келісімді кері қайтарып алу",
        "withdrawal of consent",
    ),
    "rkind.objection": ("возражение", "қарсылық", "objection"),
    "rkind.access": ("доступ к данным", "деректерге қол жеткізу", "access to my data"),
    "rkind.rectification": ("исправление данных", "деректерді түзету", "correction of data"),
    "rkind.transfer_notice": (
        "уведомление о передаче",
        "беру туралы хабарлама",
        "notice of a transfer",
    ),
    "rstatus.received": ("получен", "алынды", "received"),
    "rstatus.in_progress": ("в работе", "орындалуда", "in progress"),
    "rstatus.deferred": ("отложен", "кейінге қалдырылды", "deferred"),
    "rstatus.completed": ("исполнен", "орындалды", "completed"),
    "rstatus.done": ("исполнен", "орындалды", "completed"),
    "rstatus.refused": ("отказано", "бас тартылды", "refused"),
    "session.app": ("приложение или сайт", "қосымша немесе сайт", "app or website"),
    "session.browser": (
        "личный кабинет в браузере",
        "браузердегі жеке кабинет",
        "account pages in a browser",
    ),
    "session.started": ("Вход", "Кіру", "Signed in"),
    "session.last": ("Последняя активность", "Соңғы белсенділік", "Last active"),
    "session.expires": ("Действует до", "Жарамдылық мерзімі", "Valid until"),
    "session.live": ("Активен", "Белсенді", "Active"),
    "yes": ("да", "иә", "yes"),
    "no": ("нет", "жоқ", "no"),
    "audit.intro": (
        "Каждое обращение к вашим персональным данным: когда, кто (вы, служба магазина или "
        "сотрудник — по его роли), что сделано, с какой целью и какие данные.",
        "Дербес деректеріңізге әрбір жүгіну: қашан, кім (сіз, дүкен қызметі немесе "
        "қызметкер — оның рөлі бойынша), не істелді, қандай мақсатпен және қандай деректер.",
        "Every use of your personal data: when, by whom (you, a service of the shop, or an "
        "employee, by their role), what was done, for which purpose and which data.",
    ),
    "audit.who": ("Кто", "Кім", "Who"),
    "audit.action": ("Действие", "Әрекет", "Action"),
    "action.read": ("чтение", "оқу", "read"),
    "action.write": ("запись", "жазу", "write"),
    "actor.you": ("вы", "сіз", "you"),
    "actor.service": ("служба", "қызмет", "service"),
    "actor.system": ("автоматическая задача", "автоматты тапсырма", "automatic task"),
    "actor.staff": ("сотрудник магазина", "дүкен қызметкері", "an employee of the shop"),
    "task.dispatch": (
        "передача заказа курьеру",
        "тапсырысты курьерге беру",
        "handing an order to the courier",
    ),
    "role.privacy_officer": (
        "ответственный за защиту данных",
        "деректерді қорғауға жауапты",
        "data protection officer",
    ),
    "role.support": ("служба поддержки", "қолдау қызметі", "support"),
    "role.catalog_manager": ("менеджер каталога", "каталог менеджері", "catalogue manager"),
    "role.marketer": ("маркетолог", "маркетолог", "marketer"),
    "role.analyst": ("аналитик", "талдаушы", "analyst"),
    # Block (block_pages.py: it is done at once) and delete
    "block.title": ("Блокирование данных", "Деректерді бұғаттау", "Block my data"),
    "block.intro": (
        "Блокирование — временное прекращение обработки ваших персональных данных (Закон РК "
        "«О персональных данных и их защите», ст. 1). Оно действует сразу после нажатия "
        "кнопки и до тех пор, пока вы сами его не снимете.",
        "Бұғаттау — дербес деректеріңізді өңдеуді уақытша тоқтату (ҚР «Дербес деректер және "
        "оларды қорғау туралы» Заңы, 1-бап). Ол батырманы басқан сәттен бастап күшіне енеді "
        "және оны өзіңіз алып тастағанша әрекет етеді.",
        "Blocking is a temporary stop of the processing of your personal data (Law of the "
        "Republic of Kazakhstan on personal data, art. 1). It takes effect as soon as you "
        "press the button and lasts until you lift it yourself.",
    ),
    "block.blocked_since": (
        "Обработка ваших данных заблокирована с {at}.",
        "Деректеріңізді өңдеу {at} бастап бұғатталған.",
        "Processing of your data has been blocked since {at}.",
    ),
    "block.stops_title": ("Что прекращается", "Не тоқтатылады", "What stops"),
    "block.stops_orders": (
        "Новые заказы не принимаются: оформление заказа будет отклонено.",
        "Жаңа тапсырыстар қабылданбайды: тапсырысты рәсімдеуден бас тартылады.",
        "No new orders: a checkout is refused.",
    ),
    "block.stops_releases": (
        "Ваши данные никому не передаются — ни курьерам, ни банкам, ни сервису рассылок.",
        "Деректеріңіз ешкімге берілмейді — курьерлерге де, банктерге де, хабарлама жіберу "
        "қызметіне де.",
        "Your data goes to nobody: not to couriers, banks or the mailing service.",
    ),
    "block.stops_mail": (
        "Мы не присылаем писем, кроме писем о заказах, оформленных до блокирования; "
        "рекламных рассылок нет.",
        "Бұғаттауға дейін рәсімделген тапсырыстар туралы хаттардан басқа хат жібермейміз; "
        "жарнамалық хабарламалар жоқ.",
        "We send no mail except about orders placed before the block; no marketing.",
    ),
    "block.open_title": (
        "Заказы, оформленные до блокирования",
        "Бұғаттауға дейін рәсімделген тапсырыстар",
        "Orders placed before the block",
    ),
    "block.open": (
        "Их мы выполняем: это уже принятое обязательство (ст. 8 п. 2 Закона). Курьер получит "
        "имя, телефон и адрес для доставки, вы получите письма о статусе заказа, а в журнале "
        "передач будет указано, что данные переданы для исполнения открытого обязательства.",
        "Оларды орындаймыз: бұл қабылданған міндеттеме (Заңның 8-бабының 2-тармағы). Курьер "
        "жеткізу үшін атыңызды, телефоныңызды және мекенжайыңызды алады, сіз тапсырыс күйі "
        "туралы хаттар аласыз, ал беру журналында деректер орындалмаған міндеттемені орындау "
        "үшін берілгені көрсетіледі.",
        "These we carry out: they are an obligation already taken on (art. 8(2) of the Law). "
        "The courier gets the name, phone and address for the delivery, you get the order's "
        "status mail, and the disclosure register says the data went out for an open "
        "obligation.",
    ),
    "block.stays_title": ("Что остаётся за вами", "Сізде не қалады", "What stays yours"),
    "block.stays": (
        "Вы по-прежнему входите в личный кабинет, видите и исправляете свои данные, "
        "скачиваете их, подаёте запросы, можете снять блокирование или удалить аккаунт: это "
        "ваши права, а не обработка данных магазином.",
        "Сіз бұрынғыдай жеке кабинетке кіресіз, деректеріңізді көресіз және түзетесіз, оларды "
        "жүктеп аласыз, сұраулар жібересіз, бұғаттауды алып тастай аласыз немесе аккаунтты "
        "жоя аласыз: бұл дүкеннің деректерді өңдеуі емес, сіздің құқықтарыңыз.",
        "You still sign in, see and correct your data, download it, file requests, lift the "
        "block or delete your account: these are your rights, not processing by the shop.",
    ),
    "block.latest": (
        "Последний запрос: {kind}, подан {at}, {status}; срок по закону — {due}.",
        "Соңғы сұрау: {kind}, {at} берілді, {status}; заң бойынша мерзімі — {due}.",
        "Latest request: {kind}, filed {at}, {status}; due by law {due}.",
    ),
    "block.confirm": (
        "Я хочу заблокировать обработку моих данных",
        "Деректерімді өңдеуді бұғаттағым келеді",
        "I want the processing of my data blocked",
    ),
    "block.submit": ("Заблокировать", "Бұғаттау", "Block"),
    "block.confirm_required": (
        "Отметьте подтверждение, чтобы заблокировать.",
        "Бұғаттау үшін растауды белгілеңіз.",
        "Tick the confirmation to block.",
    ),
    "block.unblock_intro": (
        "Снять блокирование: обработка возобновится сразу, как до блокирования.",
        "Бұғаттауды алып тастау: өңдеу бұғаттауға дейінгідей бірден қайта басталады.",
        "Lift the block: processing resumes at once, as before the block.",
    ),
    "block.unblock": ("Разблокировать", "Бұғаттан шығару", "Unblock"),
    "block.done": (
        "Обработка ваших данных заблокирована.",
        "Деректеріңізді өңдеу бұғатталды.",
        "Processing of your data is blocked.",
    ),
    "block.undone": (
        "Блокирование снято, обработка возобновлена.",
        "Бұғаттау алынып тасталды, өңдеу қайта басталды.",
        "The block is lifted; processing resumes.",
    ),
    "delete.title": ("Удалить аккаунт", "Аккаунтты жою", "Delete my account"),
    "delete.intro": (
        "Удаление аккаунта — это уничтожение ваших персональных данных по вашему требованию "
        "(Закон РК «О персональных данных и их защите», ст. 25): ключ шифрования ваших данных "
        "уничтожается, прочитать их станет невозможно, в том числе из резервных копий.",
        "Аккаунтты жою — талабыңыз бойынша дербес деректеріңізді жою (ҚР «Дербес деректер "
        "және оларды қорғау туралы» Заңы, 25-бап): деректеріңіздің шифрлау кілті жойылады, "
        "оларды, соның ішінде сақтық көшірмелерден, оқу мүмкін болмайды.",
        "Deleting your account destroys your personal data at your request (Law of the "
        "Republic of Kazakhstan on personal data, art. 25): the key your data is encrypted "
        "with is destroyed, so nobody can read it again, backups included.",
    ),
    "delete.now_title": ("Что происходит сразу", "Бірден не болады", "What happens at once"),
    "delete.now_signin": (
        "Аккаунт закрывается: войти в него больше нельзя, все сеансы завершаются на всех "
        "устройствах, электронная почта и телефон освобождаются.",
        "Аккаунт жабылады: оған енді кіру мүмкін емес, барлық құрылғылардағы сеанстар "
        "аяқталады, электрондық пошта мен телефон босатылады.",
        "The account closes: it can no longer be signed in to, every session ends on every "
        "device, and your email and phone are free again.",
    ),
    "delete.now_data": (
        "Имя, телефон, почта и адрес уничтожаются вместе с ключом шифрования.",
        "Аты-жөні, телефон, пошта және мекенжай шифрлау кілтімен бірге жойылады.",
        "Your name, phone, email and address are destroyed with the encryption key.",
    ),
    "delete.now_services": (
        "Заказы остаются в бухгалтерии, но без связи с вами; корзина удаляется; журнал "
        "уведомлений больше не указывает на вас.",
        "Тапсырыстар бухгалтерияда қалады, бірақ сізбен байланыссыз; себет жойылады; "
        "хабарламалар журналы енді сізді көрсетпейді.",
        "Orders stay in the accounts, no longer linked to you; the cart is deleted; the "
        "notification log no longer points to you.",
    ),
    "delete.wait_title": ("Когда удаление ждёт", "Жою қашан күтеді", "When deletion waits"),
    "delete.wait": (
        "Если заказ ещё в пути или не завершён возврат денег, аккаунт закрывается сразу, а "
        "данные, нужные для доставки, хранятся только до её окончания (ст. 8 п. 2 Закона) и "
        "затем удаляются сами, без ваших действий.",
        "Егер тапсырыс әлі жолда болса немесе ақшаны қайтару аяқталмаса, аккаунт бірден "
        "жабылады, ал жеткізуге қажет деректер тек жеткізу аяқталғанға дейін сақталады "
        "(Заңның 8-бабы 2-тармағы) және кейін сіздің әрекетіңізсіз өздігінен жойылады.",
        "If an order is still on its way or a refund is still open, the account closes at "
        "once and the data needed for the delivery is kept only until it ends (art. 8(2) of "
        "the Law), then erased by itself, with nothing more from you.",
    ),
    "delete.stays_title": ("Что остаётся", "Не қалады", "What stays"),
    "delete.stays": (
        "Записи, которые закон требует хранить как доказательство: согласия, реестр передачи "
        "данных, журнал доступа и сам запрос на удаление. В них нет ваших данных — только "
        "номер клиента, виды и даты, и этот номер больше ни к чему о вас не ведёт.",
        "Заң дәлел ретінде сақтауды талап ететін жазбалар: келісімдер, деректерді беру "
        "тізілімі, қол жеткізу журналы және жою сұрауының өзі. Оларда сіздің деректеріңіз "
        "жоқ — тек клиент нөмірі, түрлері мен күндері, және бұл нөмір енді сіз туралы ешнәрсеге "
        "апармайды.",
        "The records the law asks us to keep as evidence: consents, the register of "
        "disclosures, the access log and the erasure request itself. They hold none of your "
        "data — only a customer number, kinds and dates — and that number leads to nothing "
        "about you any more.",
    ),
    "delete.password": (
        "Пароль (для подтверждения)",
        "Құпиясөз (растау үшін)",
        "Password (to confirm)",
    ),
    "delete.confirm": (
        "Я понимаю, что удаление необратимо",
        "Жоюдың қайтарылмайтынын түсінемін",
        "I understand that deletion cannot be undone",
    ),
    "delete.confirm_required": (
        "Отметьте подтверждение, чтобы удалить аккаунт.",
        "Аккаунтты жою үшін растауды белгілеңіз.",
        "Tick the confirmation to delete the account.",
    ),
    "delete.submit": (
        "Удалить аккаунт навсегда",
        "Аккаунтты біржола жою",
        "Delete my account for good",
    ),
    "delete.wrong_password": (
        "Неверный пароль. Аккаунт не удалён.",
        "Құпиясөз қате. Аккаунт жойылған жоқ.",
        "The password is wrong. Nothing was deleted.",
    ),
    "delete.throttled": (
        "Слишком много неверных попыток. Попробуйте позже.",
        "Қате әрекеттер тым көп. Кейінірек қайталаңыз.",
        "Too many wrong attempts. Try again later.",
    ),
    "delete.done_title": ("Аккаунт удалён", "Аккаунт жойылды", "Account deleted"),
    "delete.in_progress": (
        "Ваши персональные данные уничтожены. Службы магазина удаляют из своих записей номер "
        "клиента; это занимает секунды.",
        "Дербес деректеріңіз жойылды. Дүкен қызметтері өз жазбаларынан клиент нөмірін жоюда; "
        "бұл бірнеше секунд алады.",
        "Your personal data is destroyed. The shop's services are removing your customer "
        "number from their records; this takes seconds.",
    ),
    "delete.completed": (
        "Ваши персональные данные уничтожены, и ни одна служба магазина больше не связывает с "
        "вами свои записи.",
        "Дербес деректеріңіз жойылды, және дүкеннің бірде-бір қызметі өз жазбаларын енді "
        "сізбен байланыстырмайды.",
        "Your personal data is destroyed, and no service of the shop links its records to "
        "you any more.",
    ),
    "delete.deferred": (
        "Аккаунт закрыт: войти в него больше нельзя. Удаление данных отложено.",
        "Аккаунт жабылды: оған енді кіру мүмкін емес. Деректерді жою кейінге қалдырылды.",
        "The account is closed: it can no longer be signed in to. Erasing the data waits.",
    ),
    "delete.reason.open_order": (
        "Заказ ещё в пути (ст. 8 п. 2 Закона): данные, нужные для доставки, хранятся только до "
        "неё и будут удалены сами, как только заказ доставят или отменят.",
        "Тапсырыс әлі жолда (Заңның 8-бабы 2-тармағы): жеткізуге қажет деректер тек соған "
        "дейін сақталады және тапсырыс жеткізілген немесе жойылған бойда өздігінен жойылады.",
        "An order is still on its way (art. 8(2) of the Law): the data needed to deliver it "
        "is kept only until then, and erased by itself once the order is delivered or "
        "cancelled.",
    ),
    "delete.reason.open_refund": (
        "Возврат денег на карту ещё не завершён: данные будут удалены сами, как только банк "
        "подтвердит возврат.",
        "Картаға ақшаны қайтару әлі аяқталмады: банк қайтаруды растаған бойда деректер "
        "өздігінен жойылады.",
        "A refund to your card is still open: the data is erased by itself as soon as the "
        "bank confirms the refund.",
    ),
    "delete.reason.checking": (
        "Пока не удалось проверить, нет ли у вас незавершённых заказов; проверка повторяется "
        "сама, и данные будут удалены, как только ничего не останется открытым.",
        "Аяқталмаған тапсырыстарыңыздың бар-жоғын әзірге тексеру мүмкін болмады; тексеру "
        "өздігінен қайталанады, және ештеңе ашық қалмаған бойда деректер жойылады.",
        "We could not yet check whether an order of yours is still open; the check repeats "
        "by itself, and the data is erased as soon as nothing is open.",
    ),
    "delete.waiting_for": (
        "Ожидаемые заказы: {orders}.",
        "Күтілетін тапсырыстар: {orders}.",
        "Waiting for orders: {orders}.",
    ),
    "delete.request": (
        "Запрос на удаление записан; по закону срок — до {due} (один рабочий день).",
        "Жою сұрауы жазылды; заң бойынша мерзімі — {due} дейін (бір жұмыс күні).",
        "The erasure request is recorded; the law's deadline is {due} (one working day).",
    ),
    "delete.signed_out": (
        "Вы вышли из аккаунта на этом устройстве и на всех остальных.",
        "Сіз осы құрылғыда және басқа барлық құрылғыларда аккаунттан шықтыңыз.",
        "You are signed out here and on every other device.",
    ),
    # Validation
    "err.required": ("Заполните это поле.", "Бұл өрісті толтырыңыз.", "Fill in this field."),
    "err.too_long": ("Слишком длинное значение.", "Мән тым ұзын.", "This is too long."),
    "err.phone": (
        "Это не номер телефона. Пример: +7 701 234 56 78.",
        "Бұл телефон нөмірі емес. Мысалы: +7 701 234 56 78.",
        "This is not a phone number. Example: +7 701 234 56 78.",
    ),
    "err.email": (
        "Это не адрес электронной почты.",
        "Бұл электрондық пошта мекенжайы емес.",
        "This is not an email address.",
    ),
    "err.password": (
        "Пароль должен быть не короче 8 символов.",
        "Құпиясөз кемінде 8 таңба болуы керек.",
        "The password must be at least 8 characters.",
    ),
    "err.postal_code": (
        "Индекс — 6 цифр.",
        "Индекс — 6 цифр.",
        "The postal code is 6 digits.",
    ),
    "err.invalid": ("Проверьте это поле.", "Бұл өрісті тексеріңіз.", "Check this field."),
    "err.summary": (
        "Исправьте отмеченные поля.",
        "Белгіленген өрістерді түзетіңіз.",
        "Please correct the marked fields.",
    ),
    # Errors
    "error.title": ("Ошибка", "Қате", "Error"),
    "error.csrf": (
        "Форма устарела или отправлена с другого сайта. Обновите страницу и попробуйте снова.",
        "Пішіннің мерзімі өтті немесе басқа сайттан жіберілді. Бетті жаңартып, қайталаңыз.",
        "The form has expired or came from another site. Reload the page and try again.",
    ),
    "error.not_found": ("Страница не найдена.", "Бет табылмады.", "Page not found."),
    "error.method": (
        "Этот метод здесь не поддерживается.",
        "Бұл әдіс мұнда қолданылмайды.",
        "This method is not allowed here.",
    ),
    "error.internal": (
        "Что-то пошло не так на нашей стороне. Попробуйте позже.",
        "Біз жақта бір нәрсе дұрыс болмады. Кейінірек көріңіз.",
        "Something went wrong on our side. Please try again later.",
    ),
    "error.generic": ("Запрос не выполнен.", "Сұрау орындалмады.", "The request failed."),
    "error.back": ("Вернуться в кабинет", "Кабинетке оралу", "Back to my account"),
    # Purposes and fields in the register
    "purpose.identification": ("идентификация", "сәйкестендіру", "identification"),
    "purpose.payment": ("оплата", "төлем", "payment"),
    "purpose.delivery": ("доставка заказа", "тапсырысты жеткізу", "delivery"),
    "purpose.support": ("поддержка", "қолдау", "support"),
    "purpose.personalisation": ("персонализация", "жекелендіру", "personalisation"),
    "purpose.service_communication": (
        "уведомления о заказе",
        "тапсырыс туралы хабарламалар",
        "service messages",
    ),
    "purpose.service_improvement": (
        "улучшение сервиса",
        "қызметті жақсарту",
        "service improvement",
    ),
    "purpose.marketing": ("реклама", "жарнама", "marketing"),
    "purpose.legal_request": (
        "запрос государственного органа",
        "мемлекеттік орган сұрауы",
        "request of a state body",
    ),
    "field.recipient_name": ("имя и фамилия", "аты-жөні", "name"),
    "field.patronymic": ("отчество", "әкесінің аты", "patronymic"),
    "field.delivery_address": ("адрес доставки", "жеткізу мекенжайы", "delivery address"),
    "recipient.courier": ("курьерская служба", "курьерлік қызмет", "courier"),
    "recipient.notifications": ("служба уведомлений", "хабарлама қызметі", "notification service"),
    "recipient.authority": ("государственный орган", "мемлекеттік орган", "state body"),
    "recipient.staff": ("сотрудник магазина", "дүкен қызметкері", "shop staff"),
    "reason.delivery_problem": ("проблема с доставкой", "жеткізу мәселесі", "delivery problem"),
    "reason.payment_problem": ("проблема с оплатой", "төлем мәселесі", "payment problem"),
    "reason.order_question": (
        "вопрос по заказу",
        "тапсырыс бойынша сұрақ",
        "question on the order",
    ),
    "reason.return_or_refund": ("возврат", "қайтару", "return or refund"),
    "reason.customer_callback": (
        "вы просили перезвонить",
        "сіз қайта қоңырау шалуды сұрадыңыз",
        "you asked to be called back",
    ),
}


def translator(lang: Lang) -> Translate:
    index = LANGS.index(lang)

    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            return key
        return entry[index] or entry[0]

    return t


def as_lang(value: str | None) -> Lang | None:
    for lang in LANGS:
        if value == lang:
            return lang
    return None


def choose(request: web.Request) -> tuple[Lang, bool]:
    """The page language: ``?lang=`` (then remembered in the cookie), the cookie, or ru.

    Returns the language and whether the cookie should be (re)set.
    """
    asked = as_lang(request.query.get("lang"))
    if asked is not None:
        return asked, request.cookies.get(LANG_COOKIE) != asked
    return as_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT, False
