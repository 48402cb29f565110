"""What the API shows and accepts. Output serializers read prepared querysets (selectors); input
serializers only validate: the views pass the result to tickets.services."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from departments.models import Department
from departments.permissions import is_agent
from tickets.attachments import IncomingFile, check_file
from tickets.choices import Priority, Status
from tickets.exceptions import AttachmentRejected
from tickets.forms_customer import AttachmentsField
from tickets.models import Attachment, CannedResponse, Message, Ticket


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CustomerRefSerializer(UserRefSerializer):
    email = serializers.EmailField()


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["slug", "name", "description"]


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url"]

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:attachment", args=[obj.pk]))


class MessageSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(allow_null=True)
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = Message
        fields = ["id", "kind", "channel", "author", "body_text", "body_html", "created_at", "attachments"]


class TicketSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    department = DepartmentSerializer()
    customer = CustomerRefSerializer()
    assignee = UserRefSerializer(allow_null=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "number",
            "reference",
            "subject",
            "status",
            "priority",
            "channel",
            "department",
            "customer",
            "assignee",
            "created_at",
            "updated_at",
            "url",
        ]

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:ticket-detail", args=[obj.number]))


class TicketDetailSerializer(TicketSerializer):
    product = serializers.CharField(source="product.name", allow_null=True, default=None)
    merged_into = serializers.IntegerField(source="merged_into.number", allow_null=True, default=None)
    messages = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "fields", "product", "merged_into", "first_response_at",
                  "resolved_at", "closed_at", "messages"]

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, obj):
        return MessageSerializer(self.context["messages"], many=True, context=self.context).data


class CannedResponseSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CannedResponse
        fields = ["id", "title", "body", "department"]


# --- Input ------------------------------------------------------------------------------------------


class FilesField(serializers.ListField):
    """Multipart `files` (repeatable). Sniffed by content: customers get the cabinet's allow-list and
    file count limit (the same AttachmentsField), agents the general one (the services check it again)."""

    child = serializers.FileField()

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        uploads = super().to_internal_value(data)
        request = self.context["request"]
        try:
            if not is_agent(request.user):
                return AttachmentsField().clean(uploads)
            return [IncomingFile(filename=f.name or "attachment", data=_checked(f)) for f in uploads]
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        except AttachmentRejected as exc:
            raise serializers.ValidationError([str(exc.message)]) from exc


def _checked(upload) -> bytes:
    data = upload.read()
    check_file(upload.name or "attachment", data)
    return data


class TicketCreateSerializer(serializers.Serializer):
    department = serializers.SlugField(help_text=_("Slug of the department (see /api/v1/departments/)."))
    subject = serializers.CharField(max_length=255)
    body = serializers.CharField(max_length=50000)
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, help_text=_("Agents only; the department's default otherwise.")
    )
    customer_email = serializers.EmailField(
        required=False, help_text=_("Agents only: file the ticket on behalf of this customer (created if new).")
    )
    customer_name = serializers.CharField(required=False, max_length=150, default="")
    files = FilesField()


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=50000)
    status = serializers.ChoiceField(
        choices=Status.choices,
        default=Status.PENDING,
        help_text=_("Agents only: the ticket's status after the reply (default: pending customer)."),
    )
    files = FilesField()


class NoteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=50000)
    files = FilesField()


class TicketUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True, required=False,
        help_text=_("User id of an agent of the ticket's department, or null to unassign."),
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(_("Send at least one of status, priority, assignee."))
        return attrs


class TransferSerializer(serializers.Serializer):
    department = serializers.SlugField()
    reason = serializers.CharField(required=False, default="", max_length=2000, allow_blank=True)


class SplitSerializer(serializers.Serializer):
    message = serializers.IntegerField(help_text=_("Id of the message that starts the new ticket."))
    department = serializers.SlugField()
    subject = serializers.CharField(required=False, default="", max_length=255, allow_blank=True)


class MergeSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text=_("Number of the ticket this one is merged into."))


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
