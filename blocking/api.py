"""Block endpoints: list, block, unblock."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from blocking.models import Block
from blocking.selectors import block_list_for
from blocking.serializers import BlockCreateSerializer, BlockSerializer
from blocking.services import block_create, block_delete
from oms.serializers import UNAUTHORIZED, ErrorSerializer, ValidationErrorSerializer


@extend_schema_view(
    get=extend_schema(
        responses={
            200: BlockSerializer(many=True),
            401: UNAUTHORIZED,
            404: OpenApiResponse(ErrorSerializer, description="A page past the end."),
        }
    )
)
class BlockListCreateApi(generics.ListAPIView):
    serializer_class = BlockSerializer
    queryset = Block.objects.none()  # names the model for the schema; get_queryset scopes it

    def get_queryset(self):
        return block_list_for(user=self.request.user)

    @extend_schema(
        request=BlockCreateSerializer,
        responses={
            201: BlockSerializer,
            400: OpenApiResponse(
                ValidationErrorSerializer,
                description="Missing field, unknown user, yourself, or already blocked.",
            ),
            401: UNAUTHORIZED,
        },
    )
    def post(self, request):
        serializer = BlockCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        block = block_create(blocker=request.user, blocked_username=serializer.validated_data["blocked"])
        return Response(BlockSerializer(block).data, status=status.HTTP_201_CREATED)


class BlockDeleteApi(APIView):
    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Unblocked: that user can message you again."),
            401: UNAUTHORIZED,
            404: OpenApiResponse(ErrorSerializer, description="You do not block that user."),
        },
    )
    def delete(self, request, username: str):
        block_delete(blocker=request.user, blocked_username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)
