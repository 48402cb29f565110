"""Idempotent demo data: departments, staff, customers and a few dozen tickets in English and Russian."""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from departments.models import Department, DepartmentAddress, FormKind, Membership
from sla.selectors import calendar_for
from tickets import services
from tickets.choices import Channel, Status
from tickets.models import Message, Product, Ticket, TicketEvent
from tickets.report_backfill import backfill

PASSWORD = "demo"  # noqa: S105 - demo data only, printed for the developer

DEPARTMENTS = [
    # slug, name, address, form, triage, signature
    ("technical", "Technical support", "support@example.com", FormKind.TECHNICAL, False,
     "Technical support team\nExample Hosting · support@example.com"),
    ("sales", "Sales", "sales@example.com", FormKind.SALES, False, "Sales team\nExample Hosting · sales@example.com"),
    ("triage", "Triage", "help@example.com", FormKind.GENERIC, True, "Example Hosting support"),
]

STAFF = [
    # email, name, language, department, role, active
    ("admin@example.com", "Site Admin", "en", None, None, True),
    ("danila@example.com", "Данила Петров", "ru", "technical", "manager", True),
    ("anna@example.com", "Анна Смирнова", "ru", "technical", "agent", True),
    ("john@example.com", "John Miller", "en", "technical", "agent", True),
    ("olga@example.com", "Ольга Иванова", "ru", "sales", "manager", True),
    ("peter@example.com", "Peter Brown", "en", "sales", "agent", True),
    ("former@example.com", "Boris Former", "en", "technical", "agent", False),
]

CUSTOMERS = [
    ("ivan@example.ru", "Иван Кузнецов", "ru"),
    ("maria@example.ru", "Мария Соколова", "ru"),
    ("alice@example.com", "Alice Walker", "en"),
    ("bob@example.com", "Bob Stone", "en"),
]

PRODUCTS = ["Shared hosting", "VPS", "Dedicated server", "Domain names", "SSL certificates"]

CONVERSATIONS = [
    ("technical", "Сайт не открывается: ошибка 502", "После обновления PHP сайт example.ru отдаёт 502 Bad Gateway.",
     "Здравствуйте! Мы перезапустили PHP-FPM, сайт снова работает. Проверьте, пожалуйста."),
    ("technical", "Сервер перегружен", "Сервера на тарифе VPS-2 отвечают медленно с утра, нагрузка 20.",
     "Видим атаку на ваш сервер, включили фильтрацию трафика."),
    ("technical", "Cannot send mail from my domain", "Mail from info@alice.example bounces with 550 SPF fail.",
     "Your SPF record does not include our mail servers; please add include:_spf.example.com."),
    ("technical", "SSL certificate expired", "My site shows NET::ERR_CERT_DATE_INVALID since this morning.",
     "We renewed the certificate and reloaded the web server. Please clear your browser cache."),
    ("technical", "Нужен доступ по SSH", "Как включить SSH-доступ на тарифе Shared hosting?",
     "SSH включается в панели: Настройки → Доступ. Мы включили его для вас."),
    ("sales", "Счёт не оплачивается картой", "Пытаюсь оплатить счёт 2024-118 картой, платёж отклоняется.",
     "Мы проверили: банк отклонил платёж. Попробуйте оплату через СБП или другую карту."),
    ("sales", "Upgrade to a dedicated server", "What would it cost to move from VPS-4 to a dedicated server?",
     "A dedicated server with 64 GB RAM costs 120 EUR/month; migration is free."),
    ("sales", "Нужны закрывающие документы", "Пришлите, пожалуйста, акт за прошлый квартал.",
     "Акты отправлены на вашу почту и доступны в личном кабинете."),
    ("triage", "Question about your services", "Do you offer managed backups for WordPress sites?", ""),
    ("triage", "Вопрос", "Подскажите, есть ли у вас хостинг для Python-приложений?", ""),
]


class Command(BaseCommand):
    help = "Create demo departments, staff, customers and tickets (safe to run again)."

    def handle(self, *args, **options):
        with transaction.atomic():
            departments = self._departments()
            staff = self._staff(departments)
            customers = self._customers()
            products = [Product.objects.get_or_create(name=name, defaults={"position": i})[0]
                        for i, name in enumerate(PRODUCTS)]
            created = 0
            if not Ticket.objects.filter(fields__demo=True).exists():
                # The demo's mail goes through the real outbox, into var/mail/ by default.
                created = self._tickets(departments, staff, customers, products)
                # The report figures (reports app) follow the backdated times.
                backfill(Ticket, Message, TicketEvent, calendar_for=calendar_for, only_missing=False)
            # Departed staff leave after answering, so their replies show a deactivated author.
            User.objects.filter(email__in=[s[0] for s in STAFF if not s[5]]).update(is_active=False)
        self._print_logins(created)

    def _departments(self) -> dict[str, Department]:
        result = {}
        for i, (slug, name, address, form, triage, signature) in enumerate(DEPARTMENTS):
            dept, _ = Department.objects.update_or_create(
                slug=slug,
                defaults=dict(name=name, from_email=address, form_kind=form, is_triage=triage,
                              customer_selectable=not triage, signature=signature, position=i),
            )
            DepartmentAddress.objects.get_or_create(email=address, defaults={"department": dept})
            result[slug] = dept
        return result

    def _staff(self, departments) -> dict[str, User]:
        result = {}
        for email, name, lang, slug, role, _active in STAFF:
            user = User.objects.filter(email=email).first() or User.objects.create_user(email, PASSWORD)
            user.display_name, user.language, user.is_agent, user.is_active = name, lang, True, True
            if slug is None:
                user.is_staff = user.is_superuser = True
            user.save()
            if slug:
                Membership.objects.get_or_create(user=user, department=departments[slug], defaults={"role": role})
                if role == "manager":
                    Membership.objects.get_or_create(user=user, department=departments["triage"],
                                                     defaults={"role": "agent"})
            result[email] = user
        return result

    def _customers(self) -> list[User]:
        result = []
        for email, name, lang in CUSTOMERS:
            user = User.objects.filter(email=email).first() or User.objects.create_user(email, PASSWORD)
            user.display_name, user.language = name, lang
            user.save()
            result.append(user)
        return result

    def _tickets(self, departments, staff, customers, products) -> int:
        rnd = random.Random(42)  # deterministic demo
        now = timezone.now()
        agents = {slug: [u for u in staff.values() if u.memberships.filter(department__slug=slug).exists()]
                  for slug in departments}
        count = 0
        for round_ in range(3):
            for slug, subject, question, answer in CONVERSATIONS:
                ru = any("а" <= ch <= "я" for ch in subject.lower())
                customer = rnd.choice([c for c in customers if (c.language == "ru") == ru])
                ticket = services.ticket_create(
                    customer=customer, department=departments[slug], subject=subject, body_text=question,
                    channel=rnd.choice([Channel.WEB, Channel.EMAIL]), product=rnd.choice(products + [None]),
                    fields={"demo": True}, acknowledge=False,
                )
                count += 1
                if answer and round_ < 2:
                    agent = rnd.choice(agents[slug])
                    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
                    services.ticket_note(ticket=ticket, author=agent, body_text="Checked the logs first.")
                    status = Status.RESOLVED if round_ == 0 else Status.PENDING
                    services.ticket_reply(ticket=ticket, author=agent, body_text=answer, status=status)
                age = timedelta(days=rnd.randint(0, 60), hours=rnd.randint(0, 23))
                self._backdate(ticket, now - age)
        return count

    def _backdate(self, ticket: Ticket, when) -> None:
        # Spread the demo over the last two months; replies follow the question by a few hours.
        Ticket.objects.filter(pk=ticket.pk).update(created_at=when, updated_at=when + timedelta(hours=3))
        for i, msg in enumerate(Message.objects.filter(ticket=ticket).order_by("pk")):
            Message.objects.filter(pk=msg.pk).update(created_at=when + timedelta(hours=i))
        Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=False).update(
            first_response_at=when + timedelta(hours=2))
        Ticket.objects.filter(pk=ticket.pk, resolved_at__isnull=False).update(
            resolved_at=when + timedelta(hours=2))
        ticket.events.update(created_at=when)

    def _print_logins(self, created: int) -> None:
        w = self.stdout.write
        w(self.style.SUCCESS(f"Demo data ready ({created} new tickets)."))
        w(f"Password for every demo login: {PASSWORD}")
        for email, _name, _lang, slug, role, active in STAFF:
            what = "admin" if slug is None else f"{role} of {slug}"
            w(f"  {email:<22} {what}{'' if active else ' (departed, cannot log in)'}")
        for email, _name, _lang in CUSTOMERS:
            w(f"  {email:<22} customer")
