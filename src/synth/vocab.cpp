#include "synth/vocab.hpp"

namespace relmoe::synth {
namespace {

const Words kShoeSizes{"38", "39", "40", "41", "42", "43", "44"};
const Words kClothSizes{"S", "M", "L", "XL", "XXL"};
const Words kPhoneSizes{"64GB", "128GB", "256GB", "512GB"};
const Words kChargerSizes{"10W", "20W", "33W", "65W"};
const Words kKitchenSizes{"1L", "1.5L", "1.8L", "2L"};
const Words kBottleSizes{"350ml", "500ml", "750ml", "1L"};
const Words kCareSizes{"70ml", "170ml", "340ml", "680ml"};
const Words kLinenSizes{"40x60", "50x70", "70x140", "90x180"};

// Names in order: en, id, th, vi, ms, fil.
std::vector<Category> make_categories() {
  return {
      {"footwear", kShoeSizes,
       {{{"shoes", "sneakers", "running shoes"}, {"sepatu", "sepatu sneakers", "sepatu lari"},
         {"รองเท้า", "รองเท้าผ้าใบ", "รองเท้าวิ่ง"}, {"giày", "giày thể thao", "giày chạy bộ"},
         {"kasut", "kasut sukan", "kasut lari"}, {"sapatos", "sneakers", "rubber shoes"}}}},
      {"footwear", kShoeSizes,
       {{{"sandals", "flip flops", "slippers"}, {"sandal", "sendal", "sandal jepit"},
         {"รองเท้าแตะ", "รองเท้าสลิปเปอร์"}, {"dép", "dép xăng đan", "dép lê"},
         {"selipar", "sandal"}, {"tsinelas", "sandalyas"}}}},
      {"apparel", kClothSizes,
       {{{"t-shirt", "tee", "shirt"}, {"kaos", "baju kaos", "kaos oblong"}, {"เสื้อยืด", "เสื้อ"},
         {"áo thun", "áo phông"}, {"baju-t", "t-shirt"}, {"t-shirt", "kamiseta", "damit"}}}},
      {"apparel", kClothSizes,
       {{{"dress", "maxi dress"}, {"gaun", "dress", "gamis"}, {"ชุดเดรส", "เดรส"},
         {"váy", "đầm", "váy liền"}, {"gaun", "dres", "jubah"}, {"bestida", "dress"}}}},
      {"apparel", kClothSizes,
       {{{"jacket", "hoodie", "windbreaker"}, {"jaket", "hoodie", "jaket parasut"},
         {"เสื้อแจ็คเก็ต", "แจ็คเก็ต", "เสื้อฮู้ด"}, {"áo khoác", "áo hoodie"},
         {"jaket", "baju sejuk"}, {"dyaket", "jacket", "hoodie"}}}},
      {"apparel", kClothSizes,
       {{{"pants", "trousers", "jeans"}, {"celana", "celana panjang", "jeans"},
         {"กางเกง", "กางเกงขายาว", "ยีนส์"}, {"quần", "quần dài", "quần jean"},
         {"seluar", "seluar panjang"}, {"pantalon", "pants", "maong"}}}},
      {"bags", {},
       {{{"handbag", "bag", "tote bag"}, {"tas", "tas tangan", "tas selempang"},
         {"กระเป๋า", "กระเป๋าถือ", "กระเป๋าสะพาย"}, {"túi xách", "túi", "túi đeo chéo"},
         {"beg tangan", "beg"}, {"bag", "bayong", "shoulder bag"}}}},
      {"bags", {},
       {{{"backpack", "school bag"}, {"tas ransel", "ransel", "tas sekolah"},
         {"กระเป๋าเป้", "เป้"}, {"ba lô", "balo"}, {"beg galas", "beg sekolah"},
         {"backpack", "bag pang-eskwela"}}}},
      {"accessories", {},
       {{{"wallet", "purse"}, {"dompet", "dompet pria"}, {"กระเป๋าสตางค์", "กระเป๋าเงิน"},
         {"ví", "bóp"}, {"dompet", "beg duit"}, {"pitaka", "wallet"}}}},
      {"accessories", {},
       {{{"watch", "wristwatch", "smartwatch"}, {"jam tangan", "jam", "smartwatch"},
         {"นาฬิกา", "นาฬิกาข้อมือ"}, {"đồng hồ", "đồng hồ đeo tay"}, {"jam tangan", "jam"},
         {"relo", "watch"}}}},
      {"mobile", {},
       {{{"phone case", "case", "cover"}, {"casing hp", "softcase", "case"},
         {"เคสโทรศัพท์", "เคส", "เคสมือถือ"}, {"ốp lưng", "ốp điện thoại"},
         {"sarung telefon", "casing"}, {"phone case", "case ng cellphone"}}}},
      {"mobile", {},
       {{{"headphones", "earphones", "earbuds"}, {"headset", "earphone", "tws"},
         {"หูฟัง", "หูฟังบลูทูธ"}, {"tai nghe", "tai nghe bluetooth"},
         {"fon kepala", "earphone"}, {"headphones", "earphones"}}}},
      {"mobile", kChargerSizes,
       {{{"charger", "power adapter", "fast charger"}, {"charger", "casan", "kepala charger"},
         {"ที่ชาร์จ", "หัวชาร์จ", "สายชาร์จ"}, {"sạc", "củ sạc", "sạc nhanh"},
         {"pengecas", "charger"}, {"charger", "pang-charge"}}}},
      {"mobile", kPhoneSizes,
       {{{"smartphone", "phone", "mobile phone"}, {"hp", "handphone", "smartphone"},
         {"มือถือ", "โทรศัพท์มือถือ", "สมาร์ทโฟน"}, {"điện thoại", "điện thoại thông minh"},
         {"telefon bimbit", "telefon pintar"}, {"cellphone", "selpon", "cp"}}}},
      {"beauty", {},
       {{{"lipstick", "lip tint", "lip cream"}, {"lipstik", "lip tint", "lip cream"},
         {"ลิปสติก", "ลิป", "ลิปทินท์"}, {"son môi", "son", "son kem"}, {"gincu", "lipstik"},
         {"lipstick", "lip tint"}}}},
      {"beauty", kCareSizes,
       {{{"shampoo", "hair shampoo"}, {"sampo", "shampo"}, {"แชมพู", "ยาสระผม"},
         {"dầu gội", "dầu gội đầu"}, {"syampu", "pencuci rambut"}, {"shampoo", "syampu"}}}},
      {"kitchen", kKitchenSizes,
       {{{"rice cooker", "electric rice cooker"}, {"rice cooker", "penanak nasi", "magic com"},
         {"หม้อหุงข้าว", "หม้อหุงข้าวไฟฟ้า"}, {"nồi cơm điện", "nồi cơm"},
         {"periuk nasi", "rice cooker"}, {"rice cooker", "kaldero"}}}},
      {"kitchen", kKitchenSizes,
       {{{"blender", "juicer"}, {"blender", "juicer"}, {"เครื่องปั่น", "เครื่องปั่นน้ำผลไม้"},
         {"máy xay sinh tố", "máy xay"}, {"pengisar", "blender"}, {"blender", "juicer"}}}},
      {"kitchen", kKitchenSizes,
       {{{"electric kettle", "kettle"}, {"teko listrik", "ketel", "pemanas air"},
         {"กาต้มน้ำ", "กาต้มน้ำไฟฟ้า"}, {"ấm siêu tốc", "ấm đun nước"},
         {"cerek elektrik", "cerek"}, {"takure", "electric kettle"}}}},
      {"kitchen", kBottleSizes,
       {{{"water bottle", "tumbler", "flask"}, {"botol minum", "tumbler", "botol"},
         {"ขวดน้ำ", "กระบอกน้ำ", "แก้วเก็บความเย็น"}, {"bình nước", "bình giữ nhiệt"},
         {"botol air", "tumbler"}, {"tumbler", "bote ng tubig", "jug"}}}},
      {"home", kLinenSizes,
       {{{"pillow", "bed pillow"}, {"bantal", "bantal tidur"}, {"หมอน", "หมอนหนุน"},
         {"gối", "gối ngủ"}, {"bantal", "bantal tidur"}, {"unan", "pillow"}}}},
      {"home", kLinenSizes,
       {{{"towel", "bath towel"}, {"handuk", "handuk mandi"}, {"ผ้าเช็ดตัว", "ผ้าขนหนู"},
         {"khăn tắm", "khăn"}, {"tuala", "tuala mandi"}, {"tuwalya", "towel"}}}},
  };
}

std::vector<Brand> make_brands() {
  return {{"Zento", "เซนโต"},   {"Nuvo", "นูโว"},     {"Kirana", "คีรานา"}, {"Lumi", "ลูมี่"},
          {"Aroma", "อโรมา"},   {"Sora", "โซระ"},     {"Maxon", "แม็กซอน"}, {"Velo", "เวโล่"},
          {"Orion", "โอไรออน"}, {"Pika", "พิก้า"},     {"Tiga", "ทีก้า"},    {"Bima", "บีมา"},
          {"Delta", "เดลต้า"},  {"Koda", "โคดะ"},     {"Riva", "ริวา"},     {"Sakti", "ศักติ"},
          {"Nami", "นามิ"},     {"Fero", "เฟโร่"},     {"Gala", "กาล่า"},    {"Hana", "ฮานะ"}};
}

// Colours in order: black white red blue green pink yellow grey brown purple.
std::vector<LanguageWords> make_languages() {
  return {
      {"en",
       {{"black"}, {"white"}, {"red"}, {"blue", "navy"}, {"green"}, {"pink"}, {"yellow"},
        {"grey", "gray"}, {"brown"}, {"purple"}},
       {"original", "new", "premium", "best seller", "free shipping", "2024 model",
        "official store", "limited edition"},
       {"cheap", "best", "original", "sale", "new", "good quality"},
       {{"black", "blk"}, {"white", "wht"}, {"t-shirt", "tshirt"}, {"headphones", "headphone"},
        {"charger", "chrgr"}, {"original", "ori"}, {"purple", "prpl"}},
       "Brand", "Colour", "Size", {"used", "second hand", "refurbished"}},
      {"id",
       {{"hitam"}, {"putih"}, {"merah"}, {"biru", "biru dongker"}, {"hijau"},
        {"pink", "merah muda"}, {"kuning"}, {"abu-abu", "abu"}, {"coklat", "cokelat"}, {"ungu"}},
       {"original", "murah", "terbaru", "ready stock", "bisa cod", "promo", "asli",
        "kualitas premium"},
       {"murah", "terbaik", "ori", "promo", "yang bagus", "untuk pria", "untuk wanita"},
       {{"yang", "yg"}, {"untuk", "utk"}, {"hitam", "htm"}, {"putih", "pth"}, {"murah", "mrh"},
        {"original", "ori"}, {"sepatu", "spt"}, {"celana", "cln"}},
       "Merek", "Warna", "Ukuran", {"bekas", "second", "preloved"}},
      {"th",
       {{"สีดำ", "ดำ"}, {"สีขาว", "ขาว"}, {"สีแดง", "แดง"}, {"สีน้ำเงิน", "สีฟ้า"},
        {"สีเขียว", "เขียว"}, {"สีชมพู", "ชมพู"}, {"สีเหลือง", "เหลือง"}, {"สีเทา", "เทา"},
        {"สีน้ำตาล", "น้ำตาล"}, {"สีม่วง", "ม่วง"}},
       {"ของแท้", "ราคาถูก", "ส่งฟรี", "ใหม่ล่าสุด", "พร้อมส่ง", "โปรโมชั่น"},
       {"ราคาถูก", "ของแท้", "ดีที่สุด", "ผู้ชาย", "ผู้หญิง"},
       {{"ของแท้", "แท้"}, {"ราคาถูก", "ถูก"}, {"โทรศัพท์มือถือ", "มือถือ"}},
       "ยี่ห้อ", "สี", "ขนาด", {"มือสอง", "สินค้ามือสอง"}},
      {"vi",
       {{"đen", "màu đen"}, {"trắng", "màu trắng"}, {"đỏ", "màu đỏ"}, {"xanh dương", "xanh navy"},
        {"xanh lá", "xanh lục"}, {"hồng", "màu hồng"}, {"vàng", "màu vàng"}, {"xám", "ghi"},
        {"nâu", "màu nâu"}, {"tím", "màu tím"}},
       {"chính hãng", "giá rẻ", "mới", "freeship", "hàng có sẵn", "cao cấp"},
       {"giá rẻ", "chính hãng", "nam", "nữ", "tốt nhất", "đẹp"},
       {{"không", "ko"}, {"chính hãng", "chính hảng"}, {"điện thoại", "đt"}, {"giá rẻ", "rẻ"}},
       "Thương hiệu", "Màu", "Kích cỡ", {"cũ", "đã qua sử dụng", "hàng lướt"}},
      {"ms",
       {{"hitam"}, {"putih"}, {"merah"}, {"biru"}, {"hijau"}, {"merah jambu", "pink"},
        {"kuning"}, {"kelabu"}, {"coklat", "perang"}, {"ungu"}},
       {"original", "murah", "terkini", "stok sedia ada", "penghantaran percuma", "tulen"},
       {"murah", "terbaik", "original", "lelaki", "perempuan", "untuk budak"},
       {{"untuk", "utk"}, {"dengan", "dgn"}, {"hitam", "htm"}, {"original", "ori"},
        {"perempuan", "pmpn"}},
       "Jenama", "Warna", "Saiz", {"terpakai", "second hand", "preloved"}},
      {"fil",
       {{"itim", "black"}, {"puti", "white"}, {"pula", "red"}, {"asul", "blue"},
        {"berde", "green"}, {"rosas", "pink"}, {"dilaw", "yellow"}, {"abo", "gray"},
        {"kayumanggi", "brown"}, {"lila", "ube"}},
       {"orig", "mura", "bagong labas", "sale", "free shipping", "legit", "onhand"},
       {"mura", "legit", "orig", "para sa lalaki", "pambabae", "sulit"},
       {{"para sa", "pra sa"}, {"original", "orig"}, {"legit", "lejit"}, {"pambabae", "pang babae"}},
       "Brand", "Kulay", "Size", {"segunda mano", "used", "preloved"}},
  };
}

}  // namespace

const std::vector<Category>& categories() {
  static const auto table = make_categories();
  return table;
}

const std::vector<Brand>& brands() {
  static const auto table = make_brands();
  return table;
}

const LanguageWords& language(Lang lang) {
  static const auto table = make_languages();
  return table.at(lang);
}

}  // namespace relmoe::synth
