import factory

from accounts.tests.factories import UserFactory
from messageservice.models import Message
from messageservice.services import conversation_add


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    sender = factory.SubFactory(UserFactory)
    receiver = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"message {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # A new unread message, as message_send stores it: the conversation rows count it too.
        message = super()._create(model_class, *args, **kwargs)
        conversation_add(message=message)
        return message
