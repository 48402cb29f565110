import factory

from accounts.models import User
from departments.models import Department, DepartmentAddress, Membership
from tickets import services
from tickets.models import Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"User {n}")
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class AgentFactory(UserFactory):
    is_agent = True


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["slug"]
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"dept-{n}")
    from_email = factory.LazyAttribute(lambda d: f"{d.slug}@helpdesk.example")
    signature = factory.LazyAttribute(lambda d: f"-- {d.name} team")

    @factory.post_generation
    def address(obj, create, extracted, **kwargs):
        if create:
            DepartmentAddress.objects.get_or_create(email=extracted or obj.from_email, defaults={"department": obj})


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")


def member(user, department, role=Membership.Role.AGENT):
    Membership.objects.get_or_create(user=user, department=department, defaults={"role": role})
    return user


def make_ticket(customer, department, subject="Help needed", body="Something is broken", **kwargs):
    return services.ticket_create(
        customer=customer, department=department, subject=subject, body_text=body, **kwargs
    )
