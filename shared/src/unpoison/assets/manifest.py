"""Every third-party trigger file the four papers' code loads: where it comes from and its sha256.

Names are ``<source>/<file>`` (``abl``, ``effective`` = the D-ST/D-BR repository, ``trap_replace``,
``ibau``, ``frequency_backdoor``); a folder of assets uses the same layout, so a checkout of them
can be passed as ``--assets DIR`` as it is. Each file keeps the licence of its source repository;
the project does not redistribute them. Checksums were taken from the files at the listed commits.
"""

from __future__ import annotations

from dataclasses import dataclass

# Licence statements of the source repositories, as found at the listed commits.
NO_LICENSE = "none stated (no LICENSE file): all rights reserved by the authors"
CC_BY_NC = "CC BY-NC (README badge; no LICENSE file)"
MIT = "MIT"


@dataclass(frozen=True)
class AssetFile:
    """One trigger file: its name here, its upstream location and checksum, and who uses it."""

    name: str
    repo: str  # GitHub owner/name
    commit: str
    path: str  # path inside the repository
    sha256: str
    license: str
    used_by: str

    @property
    def url(self) -> str:
        """The file's raw download address at the pinned commit."""
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.path}"


MANIFEST: dict[str, AssetFile] = {
    asset.name: asset
    for asset in (
        AssetFile(
            "effective/best_square_trigger_cifar10.npz",
            "SCLBD/Effective_backdoor_defense",
            "63fda0e4f5db696a353e2bea070db882399415c3",
            "trigger/best_square_trigger_cifar10.npz",
            "e0618d3abdf2db4bc2a2d828defc9b7223dc2aefb50376a6d839ef71c0b65ed9",
            NO_LICENSE,
            "D-ST/D-BR Trojan (trojanTrigger)",
        ),
        AssetFile(
            "effective/signal_cifar10_mask.npy",
            "SCLBD/Effective_backdoor_defense",
            "63fda0e4f5db696a353e2bea070db882399415c3",
            "trigger/signal_cifar10_mask.npy",
            "ee1c75ecf0b277f08181139e54c5835b3f0a1298df3282b718a5e3fb588fb97a",
            NO_LICENSE,
            "D-ST/D-BR Blend-Strip (signalTrigger)",
        ),
        AssetFile(
            "effective/hello_kitty.png",
            "SCLBD/Effective_backdoor_defense",
            "63fda0e4f5db696a353e2bea070db882399415c3",
            "trigger/hello_kitty.png",
            "e313fb548a8b873d999d50426ebe2752f5512cb9318def33077158589c3b344d",
            NO_LICENSE,
            "D-ST/D-BR Blend-Kitty (kittyTrigger)",
        ),
        AssetFile(
            "abl/best_square_trigger_cifar10.npz",
            "bboylyg/ABL",
            "3fd736ce0906f24b0672b471ae20016362eefde4",
            "trigger/best_square_trigger_cifar10.npz",
            "e0618d3abdf2db4bc2a2d828defc9b7223dc2aefb50376a6d839ef71c0b65ed9",
            CC_BY_NC,
            "ABL Trojan (trojanTrigger); CBD Trojan (CBD loads this path but does not ship it)",
        ),
        AssetFile(
            "abl/signal_cifar10_mask.npy",
            "bboylyg/ABL",
            "3fd736ce0906f24b0672b471ae20016362eefde4",
            "trigger/signal_cifar10_mask.npy",
            "ee1c75ecf0b277f08181139e54c5835b3f0a1298df3282b718a5e3fb588fb97a",
            CC_BY_NC,
            "ABL Blend (signalTrigger)",
        ),
        AssetFile(
            "abl/ImageNet_blend_mask.npy",
            "bboylyg/ABL",
            "3fd736ce0906f24b0672b471ae20016362eefde4",
            "trigger/ImageNet_blend_mask.npy",
            "deae65ed713786e416d9d055fb9217d43325160d370dada158f85e18899a9c66",
            CC_BY_NC,
            "ABL ImageNet Blend (not referenced by ABL code; unverified use)",
        ),
        AssetFile(
            "abl/imagenet_sig_mask.npy",
            "bboylyg/ABL",
            "3fd736ce0906f24b0672b471ae20016362eefde4",
            "trigger/imagenet_sig_mask.npy",
            "4b03c23b43560e74d4ce314253d614d2540ddf2c1b054897376c773f3becbf3e",
            CC_BY_NC,
            "ABL ImageNet SIG (not referenced by ABL code; unverified use)",
        ),
        AssetFile(
            "abl/ImageNet-trojan-mask.npy",
            "bboylyg/ABL",
            "3fd736ce0906f24b0672b471ae20016362eefde4",
            "trigger/ImageNet-trojan-mask.npy",
            "767caca8c47c12fee2d885ad7900e04c518ff45340c166133e448ca16d2a8cda",
            CC_BY_NC,
            "ABL ImageNet Trojan (not referenced by ABL code; unverified use)",
        ),
        AssetFile(
            "trap_replace/blend.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/blend.png",
            "e313fb548a8b873d999d50426ebe2752f5512cb9318def33077158589c3b344d",
            NO_LICENSE,
            "Trap-and-Replace Blend (--pattern blend)",
        ),
        AssetFile(
            "trap_replace/sig.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/sig.png",
            "5d361fa383646200cd8c7851249f4a971c19fbf09c6137d7ca5b54078c2b1ce5",
            NO_LICENSE,
            "Trap-and-Replace SIG (--pattern sig, clean-label)",
        ),
        AssetFile(
            "trap_replace/trojan_3x3.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/trojan_3x3.png",
            "9c4001742dfaa9e0033767fbc434b58da422cf1961a934e7a5cb2d1323aa011f",
            NO_LICENSE,
            "Trap-and-Replace Trojan 3x3 (--pattern trojan_3x3)",
        ),
        AssetFile(
            "trap_replace/trojan_8x8.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/trojan_8x8.png",
            "b47420e27b0a78a828787526930d77651a8ce7124f59b89ac495de787eb25b66",
            NO_LICENSE,
            "Trap-and-Replace Trojan-SQ (--pattern trojan_8x8; most likely the paper's Trojan-SQ)",
        ),
        AssetFile(
            "trap_replace/trojan_wm.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/trojan_wm.png",
            "1ed725dab526c7218333640cc6dc18cb85aa1c1c2d6497082b3234a24c77e3fa",
            NO_LICENSE,
            "Trap-and-Replace Trojan-WM (--pattern trojan_wm)",
        ),
        AssetFile(
            "trap_replace/l0_inv.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/l0_inv.png",
            "c979bfd3deab944b59f1e3d9172fb56b19bff081d3f596ed61e6fab70e62fc51",
            NO_LICENSE,
            "Trap-and-Replace l0-invisible (--pattern l0_inv)",
        ),
        AssetFile(
            "trap_replace/l2_inv.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/l2_inv.png",
            "138a28d3883d4e3095a304ac441c2b9011bb19dbb43d0d5d3b535f13f7669e69",
            NO_LICENSE,
            "Trap-and-Replace l2-invisible (--pattern l2_inv)",
        ),
        AssetFile(
            "trap_replace/mask.npy",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/mask.npy",
            "d8eeee5213e4d1648d358688ac20b0485a55981d85f261c537421bd397200bf3",
            NO_LICENSE,
            "Trap-and-Replace l0-invisible mask (--pattern l0_inv; keep = 1 - mask)",
        ),
        AssetFile(
            "trap_replace/smooth_cifar10.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/smooth_cifar10.png",
            "ef17d02fc868e8f515f61ef81492bc9d1f3b5696d35c120648f8a6c2baeee955",
            NO_LICENSE,
            "Trap-and-Replace Smooth on CIFAR-10 (--pattern smooth)",
        ),
        AssetFile(
            "trap_replace/smooth_gtsrb.png",
            "VITA-Group/Trap-and-Replace-Backdoor-Defense",
            "89e0c3a73c490d1a457b7772f52a24ad78553fce",
            "triggers/smooth_gtsrb.png",
            "c85ed38c9b5feb9f61808659d8fa189d46e623b30deb3d93d0cf9ff158b2f2c7",
            NO_LICENSE,
            "Trap-and-Replace Smooth on GTSRB (--pattern smooth, --dataset gtsrb)",
        ),
        AssetFile(
            "ibau/trojan_sq.png",
            "YiZeng623/I-BAU",
            "d4bfa526fb9e8adfef1f117e2eb4513240fb1c99",
            "triggers/trojan_sq.png",
            "b47420e27b0a78a828787526930d77651a8ce7124f59b89ac495de787eb25b66",
            MIT,
            "origin of T&R trojan_8x8 (I-BAU trojan_sq attack)",
        ),
        AssetFile(
            "ibau/trojan_wm.png",
            "YiZeng623/I-BAU",
            "d4bfa526fb9e8adfef1f117e2eb4513240fb1c99",
            "triggers/trojan_wm.png",
            "1ed725dab526c7218333640cc6dc18cb85aa1c1c2d6497082b3234a24c77e3fa",
            MIT,
            "origin of T&R trojan_wm (I-BAU trojan_wm attack)",
        ),
        AssetFile(
            "ibau/l0_inv.png",
            "YiZeng623/I-BAU",
            "d4bfa526fb9e8adfef1f117e2eb4513240fb1c99",
            "triggers/l0_inv.png",
            "c979bfd3deab944b59f1e3d9172fb56b19bff081d3f596ed61e6fab70e62fc51",
            MIT,
            "origin of T&R l0_inv (I-BAU l0_inv attack)",
        ),
        AssetFile(
            "ibau/l2_inv.png",
            "YiZeng623/I-BAU",
            "d4bfa526fb9e8adfef1f117e2eb4513240fb1c99",
            "triggers/l2_inv.png",
            "138a28d3883d4e3095a304ac441c2b9011bb19dbb43d0d5d3b535f13f7669e69",
            MIT,
            "origin of T&R l2_inv (I-BAU l2_inv attack)",
        ),
        AssetFile(
            "ibau/mask.npy",
            "YiZeng623/I-BAU",
            "d4bfa526fb9e8adfef1f117e2eb4513240fb1c99",
            "triggers/mask.npy",
            "d8eeee5213e4d1648d358688ac20b0485a55981d85f261c537421bd397200bf3",
            MIT,
            "origin of T&R mask.npy (I-BAU l0_inv mask)",
        ),
        AssetFile(
            "frequency_backdoor/best_universal.npy",
            "YiZeng623/frequency-backdoor",
            "99a16a7939ed5ca17848f6c70a5072442ef5b9f2",
            "Sec5_Smooth_Trigger/data/best_universal.npy",
            "1f719330ab92fe21150fe4448e773bb47b8582b897afd517bea8cac0338b6e8e",
            MIT,
            "origin of T&R smooth_cifar10.png (Smooth trigger, CIFAR-10)",
        ),
        AssetFile(
            "frequency_backdoor/gtsrb_universal.npy",
            "YiZeng623/frequency-backdoor",
            "99a16a7939ed5ca17848f6c70a5072442ef5b9f2",
            "Sec5_Smooth_Trigger/data/gtsrb_universal.npy",
            "dd73b6883861b1ee46623b6051e452d814e1c0bd647b078815699f6e483a18e1",
            MIT,
            "origin of T&R smooth_gtsrb.png (Smooth trigger, GTSRB)",
        ),
    )
}
