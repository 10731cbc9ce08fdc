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
    # Export
    "export.title": ("Скачать мои данные", "Деректерімді жүктеу", "Download my data"),
    "export.intro": (
        "Один файл JSON со всем, что магазин хранит о вас: данные профиля, согласия, журнал "
        "передач, заказы и уведомления.",
        "Дүкен сіз туралы сақтайтын барлық деректер бір JSON файлында: профиль, келісімдер, "
        "беру журналы, тапсырыстар және хабарламалар.",
        "One JSON file with everything the shop keeps about you: profile, consents, the "
        "disclosure register, orders and notifications.",
    ),
    "export.download": ("Скачать (JSON)", "Жүктеу (JSON)", "Download (JSON)"),
    # Block and delete
    "block.title": ("Заблокировать аккаунт", "Аккаунтты бұғаттау", "Block my account"),
    "block.intro": (
        "Блокирование останавливает обработку ваших данных: им не будут пользоваться для "
        "доставки, рассылок и других целей, пока вы не попросите разблокировать.",
        "Бұғаттау деректеріңізді өңдеуді тоқтатады: сіз бұғаттан шығаруды сұрағанша олар "
        "жеткізу, хабарламалар және басқа мақсаттар үшін пайдаланылмайды.",
        "Blocking stops the processing of your data: it is not used for delivery, messages or "
        "anything else until you ask to unblock.",
    ),
    "block.confirm": (
        "Я хочу заблокировать обработку моих данных",
        "Деректерімді өңдеуді бұғаттағым келеді",
        "I want the processing of my data blocked",
    ),
    "block.submit": (
        "Отправить запрос на блокирование",
        "Бұғаттауға сұрау жіберу",
        "Request blocking",
    ),
    "delete.title": ("Удалить аккаунт", "Аккаунтты жою", "Delete my account"),
    "delete.intro": (
        "Удаление уничтожает ключ шифрования ваших данных: прочитать их станет невозможно, в "
        "том числе из резервных копий. Заказы остаются в бухгалтерии без связи с вами.",
        "Жою деректеріңіздің шифрлау кілтін жояды: оларды, соның ішінде сақтық "
        "көшірмелерден, оқу мүмкін болмайды. Тапсырыстар бухгалтерияда сізбен байланыссыз қалады.",
        "Deletion destroys the key your data is encrypted with: nobody can read it again, "
        "backups included. Orders stay in the accounts, no longer linked to you.",
    ),
    "delete.confirm": (
        "Я понимаю, что удаление необратимо",
        "Жоюдың қайтарылмайтынын түсінемін",
        "I understand that deletion cannot be undone",
    ),
    "delete.submit": ("Отправить запрос на удаление", "Жоюға сұрау жіберу", "Request deletion"),
    "request.honest": (
        "Сейчас это не выполняется автоматически: кнопка отправляет запрос, мы записываем его "
        "дату и время. Исполняет запрос вручную сотрудник по защите данных; по закону — в "
        "течение одного рабочего дня (Закон РК «О персональных данных и их защите», ст. 25). "
        "До исполнения ваши данные обрабатываются как прежде.",
        "Қазір бұл автоматты түрде орындалмайды: батырма сұрау жібереді, біз оның күні мен "
        "уақытын жазамыз. Сұрауды деректерді қорғау жөніндегі қызметкер қолмен орындайды; заң "
        "бойынша — бір жұмыс күні ішінде (ҚР «Дербес деректер және оларды қорғау туралы» Заңы, "
        "25-бап). Орындалғанға дейін деректеріңіз бұрынғыдай өңделеді.",
        "This is not done automatically yet: the button sends a request and we record its date "
        "and time. The data protection officer carries it out by hand; the law gives one "
        "working day (Law of the Republic of Kazakhstan on personal data, art. 25). Until it "
        "is done your data is processed as before.",
    ),
    "request.recorded": (
        "Запрос записан {at}. Он ещё не исполнен.",
        "Сұрау {at} жазылды. Ол әлі орындалған жоқ.",
        "Your request was recorded on {at}. It has not been carried out yet.",
    ),
    "request.confirm_required": (
        "Отметьте подтверждение, чтобы отправить запрос.",
        "Сұрауды жіберу үшін растауды белгілеңіз.",
        "Tick the confirmation to send the request.",
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
    "field.delivery_address": ("адрес доставки", "жеткізу мекенжайы", "delivery address"),
    "recipient.courier": ("курьерская служба", "курьерлік қызмет", "courier"),
    "recipient.notifications": ("служба уведомлений", "хабарлама қызметі", "notification service"),
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
